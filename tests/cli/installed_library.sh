#!/usr/bin/env bash
# nurec as a library of another CMake project (docs/design.md "Installation"): install into a
# prefix, build examples/ against it with find_package(nurec), run the example on a simulated
# file. The example must find the shipped model next to the installed libraries (not in the
# source tree) and give the same MMC and diffusion results as the installed `nurec reconstruct`.
# Usage: installed_library.sh BUILD_DIR SOURCE_DIR WORK
set -euo pipefail
BUILD=$1 SRC=$2 W=$3
unset NUREC_DATA_DIR
rm -rf "$W" && mkdir -p "$W"
cmake --install "$BUILD" --prefix "$W/prefix" > "$W/install.log"
P=$W/prefix
for f in bin/nurec lib/libnurec_core.so lib/libnurec_ml.so include/nurec/Version.hpp \
         include/nurec/io/EventFile.hpp include/nurec/reco/Mmc.hpp include/nurec/ml/Api.hpp \
         lib/cmake/nurec/nurecConfig.cmake lib/cmake/nurec/nurecTargets.cmake \
         share/nurec/models/ztautau_ip_vf_neutral/model.pt; do
  test -e "$P/$f" || { echo "FAIL: $f not installed"; exit 1; }
done

cmake -S "$SRC/examples" -B "$W/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$P" > "$W/configure.log" 2>&1 || { cat "$W/configure.log"; exit 1; }
cmake --build "$W/examples" > "$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }
EXAMPLE=$W/examples/reconstruct/nurec_example_reconstruct

cd "$W"
"$P/bin/nurec" -q generate --events 1500 --seed 11 --threads 1 --out g.h5 > /dev/null
"$P/bin/nurec" -q simulate g.h5 --only-selected --seed 11 --threads 1 --out s.h5 > /dev/null
OMP_NUM_THREADS=1 "$EXAMPLE" s.h5 example.h5 > example.txt
cat example.txt
grep -q "^model: $P/share/nurec/models/ztautau_ip_vf_neutral" example.txt ||
  { echo "FAIL: the example did not take the model from the install prefix"; exit 1; }
grep -Eq "^mmc +[1-9][0-9]* of" example.txt || { echo "FAIL: no MMC result"; exit 1; }
grep -Eq "^diffusion +[1-9][0-9]* of" example.txt || { echo "FAIL: no diffusion result"; exit 1; }

# The command line on the same file gives the same numbers.
"$P/bin/nurec" -q reconstruct s.h5 --method mmc --threads 1 --out cli.h5 > /dev/null
"$P/bin/nurec" -q reconstruct cli.h5 --method diffusion --candidates 10 --seed 1 --threads 1 \
  --out cli.h5 > /dev/null
for d in /nu/mmc/p4 /nu/mmc/status /nu/diffusion/p4 /nu/diffusion/candidates; do
  h5diff -d 1e-9 example.h5 cli.h5 "$d" "$d" > /dev/null ||
    { echo "FAIL: $d differs between the example and nurec reconstruct"; exit 1; }
done
echo "installed-library-ok"
