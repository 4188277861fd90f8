#!/usr/bin/env bash
# Checks that a change left behaviour alone: builds the firmware and runs `npswitch sim --json --pcap` on
# every example scenario (sim/scenarios/*.yaml) at two revisions, and compares the firmware bytes, the JSON
# (less host_seconds, the only field that depends on the host) and every capture byte for byte.
#   scripts/same-results.sh BASE [OTHER]     OTHER defaults to the work tree as it is now
# Both sides use this checkout's node_modules and the same development key, so equal sources give equal
# bytes. Exit code 0 when everything is the same, 1 otherwise; temporary worktrees are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BASE=${1:?usage: scripts/same-results.sh BASE [OTHER]}
OTHER=${2:-}
WORK=$(mktemp -d /tmp/npswitch-same.XXXXXX)
trap 'for d in "$WORK"/tree-*; do [ -d "$d" ] && git -C "$ROOT" worktree remove --force "$d" >/dev/null 2>&1 || true; done; rm -rf "$WORK"' EXIT

# side NAME DIR: build and run the scenarios in DIR, results under $WORK/NAME
side() {
  local name=$1 dir=$2
  local out=$WORK/$name
  mkdir -p "$out"
  [ -e "$dir/node_modules" ] || ln -s "$ROOT/node_modules" "$dir/node_modules"
  (cd "$dir" && node bin/npswitch.js build -o "$out/firmware.npfw" >/dev/null)
  for s in "$ROOT"/sim/scenarios/*.yaml; do
    local n; n=$(basename "$s" .yaml)
    mkdir -p "$out/pcap-$n"
    # A scenario whose requests fail still prints its JSON (exit code 1); the comparison is what counts.
    (cd "$dir" && node bin/npswitch.js sim "$out/firmware.npfw" --scenario "sim/scenarios/$n.yaml" --json --pcap "$out/pcap-$n" || true) \
      | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);delete j.host_seconds;process.stdout.write(JSON.stringify(j,null,1))})' > "$out/$n.json"
  done
}

tree() { local d=$WORK/tree-$1; git worktree add --detach -q "$d" "$2"; echo "$d"; }
side base "$(tree base "$BASE")"
if [ -n "$OTHER" ]; then side other "$(tree other "$OTHER")"; else side other "$ROOT"; fi

status=0
cmp -s "$WORK/base/firmware.npfw" "$WORK/other/firmware.npfw" && echo "firmware: same bytes ($(sha256sum < "$WORK/base/firmware.npfw" | cut -c1-16))" || { echo "firmware: DIFFERENT"; status=1; }
for s in "$ROOT"/sim/scenarios/*.yaml; do
  n=$(basename "$s" .yaml)
  r="$n:"
  if cmp -s "$WORK/base/$n.json" "$WORK/other/$n.json"; then r="$r json same"; else r="$r json DIFFERENT"; status=1; fi
  for p in "$WORK/base/pcap-$n"/*.pcap; do
    f=$(basename "$p")
    if cmp -s "$p" "$WORK/other/pcap-$n/$f"; then r="$r, $f same ($(stat -c %s "$p") bytes)"; else r="$r, $f DIFFERENT"; status=1; fi
  done
  echo "$r"
done
exit $status
