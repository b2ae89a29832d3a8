#!/usr/bin/env bash
# An installed nurec (cmake --install) reads the files it ships from <prefix>/share/nurec before the
# source tree it was built from, and NUREC_DATA_DIR before both (src/core/ShippedFiles.hpp).
# Proof by damage: the installed copy of the MMC table is made unreadable, and the error must
# name it; then NUREC_DATA_DIR points to an intact copy and MMC runs.
# Usage: installed_data.sh BUILD_DIR NUREC WORK
set -euo pipefail
BUILD=$1 NUREC=$2 W=$3
rm -rf "$W" && mkdir -p "$W"
cmake --install "$BUILD" --prefix "$W/prefix" > "$W/install.log"
P=$W/prefix
test -x "$P/bin/nurec"
test -f "$P/share/nurec/data/mmc/mmc_pdfs_v1.json"
test -f "$P/share/nurec/models/ztautau_small/model.pt"
"$NUREC" -q generate --events 3000 --seed 3 --threads 1 --out "$W/g.h5" > /dev/null
"$NUREC" -q simulate "$W/g.h5" --only-selected --seed 3 --threads 1 --out "$W/s.h5" > /dev/null
mkdir -p "$W/intact"
cp -r "$P/share/nurec/data" "$W/intact/"
echo "damaged" > "$P/share/nurec/data/mmc/mmc_pdfs_v1.json"
if "$P/bin/nurec" -q reconstruct "$W/s.h5" --method mmc --mmc-points 50 --threads 1 --out "$W/r.h5" 2> "$W/err.txt"; then
  echo "FAIL: the damaged installed MMC table was not read"; exit 1
fi
grep -q "share/nurec/data/mmc/mmc_pdfs_v1.json" "$W/err.txt" || { echo "FAIL: error does not name the installed table:"; cat "$W/err.txt"; exit 1; }
NUREC_DATA_DIR=$W/intact "$P/bin/nurec" -q reconstruct "$W/s.h5" --method mmc --mmc-points 50 --threads 1 --out "$W/r.h5" > /dev/null
echo "installed-data-ok"
