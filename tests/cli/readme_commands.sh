#!/usr/bin/env bash
# README.md's command lines hold: every `nurec ...` line of README.md names a subcommand that exists,
# every option it uses is listed by that subcommand's --help, and the step-by-step chain runs as
# written (in a scratch folder, with --events lowered to keep the test short; nothing else changed).
# Usage: readme_commands.sh NUREC SOURCE_DIR WORK
set -uo pipefail
NUREC=$1 SRC=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 2
fails=0

# Indented code lines that start with `nurec` or `build/app/nurec`, without trailing comments.
mapfile -t lines < <(grep -E '^    (build/app/)?nurec ' "$SRC/README.md" | sed -E 's/ +#.*$//; s/^ +//')
[[ ${#lines[@]} -ge 5 ]] || { echo "FAIL: found only ${#lines[@]} command lines in README.md"; exit 1; }

for line in "${lines[@]}"; do
  read -r -a words <<< "$line"
  sub=${words[1]}
  if ! help=$("$NUREC" "$sub" --help 2>&1); then
    echo "FAIL: README: '$line': no subcommand '$sub'"; fails=$((fails + 1)); continue
  fi
  for w in "${words[@]:2}"; do
    if [[ $w == -* ]] && ! grep -qE -- "(^|[ ,])${w%%=*}([ ,=]|$)" <<< "$help"; then
      echo "FAIL: README: '$line': '$nurec $sub --help' does not list ${w%%=*}"; fails=$((fails + 1))
    fi
  done
done

# The step-by-step chain (every line except the demo), run as written.
for line in "${lines[@]}"; do
  read -r -a words <<< "$line"
  [[ ${words[1]} == demo || ${words[1]} == --help ]] && continue
  args=("${words[@]:1}")
  for i in "${!args[@]}"; do
    [[ ${args[$i]} == --events ]] && args[$((i + 1))]=3000
    # Shipped files (models/, configs/) are read from the source tree; a model the chain trains
    # itself stays in the scratch folder.
    if [[ ${args[$i]} == --model || ${args[$i]} == --config ]] && [[ -e $SRC/${args[$((i + 1))]} ]]; then
      args[$((i + 1))]="$SRC/${args[$((i + 1))]}"
    fi
  done
  echo "+ nurec ${args[*]}"
  if ! OMP_NUM_THREADS=1 "$NUREC" -q "${args[@]}" > out.txt 2> err.txt; then
    echo "FAIL: README line '$line' failed:"; cat err.txt; fails=$((fails + 1))
  fi
done
for f in truth.h5 events.h5 nu.h5 report/README.md spin.json tt_vld/model.pt tt_report/README.md; do
  [[ -s $f ]] || { echo "FAIL: the README chain wrote no $f"; fails=$((fails + 1)); }
done

[[ $fails -eq 0 ]] && echo "readme-commands-ok"
exit $((fails > 0))
