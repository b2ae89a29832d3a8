#!/usr/bin/env bash
# The repository stands alone: code, tests and docs cite the physics, ML-methods and design pages of
# this repository by their path (docs/physics.md, docs/ml-methods.md, docs/design.md; relative
# Markdown link targets inside docs/ are fine), and nothing points outside the repository.
set -uo pipefail
root="${1:?usage: self_contained_docs.sh SOURCE_DIR}"
cd "$root" || exit 2
self="tests/cli/self_contained_docs.sh"
paths=()
for p in src tests app benchmarks scripts configs docs models python examples fuzz cmake README.md; do
  [[ -e "$p" ]] && paths+=("$p")
done
status=0

# A page name not preceded by a path ("docs/") and not the target of a Markdown link.
bare=$(grep -rnIP '(?<![\w/.\-])(?<!\]\()(physics|design|ml-methods|ml)\.md' "${paths[@]}" |
       grep -v "^${self}:")
if [[ -n "$bare" ]]; then
  echo "citations without the docs/ prefix (write docs/physics.md, docs/ml-methods.md, docs/design.md):"
  echo "$bare"
  status=1
fi

# A link whose target is only a page name reads like a pointer to a reference folder elsewhere:
# cite these pages by their repository path instead.
bare_links=$(grep -rnIP '\]\((physics|design|ml)\.md[)#]' "${paths[@]}" | grep -v "^${self}:")
if [[ -n "$bare_links" ]]; then
  echo "links whose target is a docs page by its name alone (write \`docs/<page>.md\`):"
  echo "$bare_links"
  status=1
fi

# The folder name is assembled from two parts so that this checker does not itself read as a
# reference to it.
outside_folder="sha""red/"
outside=$(grep -rnIF -e "$outside_folder" "${paths[@]}" |
          grep -v "^${self}:")
if [[ -n "$outside" ]]; then
  echo "references to files outside the repository:"
  echo "$outside"
  status=1
fi

[[ $status -eq 0 ]] && echo "all citations point to pages of this repository"
exit $status
