#!/usr/bin/env bash
# The Debian packages, from the binaries already built (cpack only runs the
# install rules; nothing is compiled): builds them into a scratch folder,
# unpacks both with `dpkg -x`, checks their contents, starts the installed
# server with the installed config (ports set to free ones on the command
# line) and asks its /health; configures a CMake project against the
# installed connector package.
# Usage: check-deb.sh <build dir>
set -euo pipefail
build=$1
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -B "$work/cpack" -D CPACK_OUTPUT_FILE_PREFIX="$work/out" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
server_deb=$(ls "$work"/out/snorky_*.deb)
dev_deb=$(ls "$work"/out/snorky-dev_*.deb)

# Control data: dependencies found by dpkg-shlibdeps, the conffile, the scripts.
dpkg-deb -f "$server_deb" Depends | grep -q "libssl3" || fail "snorky does not depend on libssl3: $(dpkg-deb -f "$server_deb" Depends)"
dpkg-deb -e "$server_deb" "$work/control"
grep -qx "/etc/snorky/snorky.toml" "$work/control/conffiles" || fail "snorky.toml is not a conffile"
[ -x "$work/control/postinst" ] || fail "no postinst"
sh -n "$work/control/postinst" && sh -n "$work/control/prerm" && sh -n "$work/control/postrm"

root=$work/root
dpkg -x "$server_deb" "$root"
dpkg -x "$dev_deb" "$root"
for f in usr/bin/snorky usr/bin/snorky-call etc/snorky/snorky.toml usr/lib/systemd/system/snorky.service \
         usr/share/man/man1/snorky.1.gz usr/share/man/man1/snorky-call.1.gz usr/share/doc/snorky/README.md \
         usr/include/snorky/connector/backend.hpp; do
  [ -e "$root/$f" ] || fail "missing /$f"
done
[ -n "$(find "$root/usr/lib" -name libsnorky_connector.a)" ] || fail "missing libsnorky_connector.a"
[ ! -e "$root/usr/include/snorky/core" ] || fail "the server's private headers were packaged"
zcat "$root/usr/share/man/man1/snorky.1.gz" | grep -q -- "--config" || fail "the man page does not hold --help"

unit=$root/usr/lib/systemd/system/snorky.service
for directive in "User=snorky" "LimitNOFILE=" "Restart=on-failure" 'ExecReload=/bin/kill -HUP $MAINPID' \
                 "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes"; do
  grep -qF "$directive" "$unit" || fail "the unit lacks $directive"
done
if command -v systemd-analyze >/dev/null; then
  # Verified with the paths pointing into the scratch root.
  mkdir -p "$work/unit"
  sed "s|/usr/bin/snorky|$root/usr/bin/snorky|g" "$unit" > "$work/unit/snorky.service"
  out=$(systemd-analyze verify --man=no "$work/unit/snorky.service" 2>&1 || true)
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
fi

# The installed binary with the installed config.
export LD_LIBRARY_PATH=
"$root/usr/bin/snorky" --config "$root/etc/snorky/snorky.toml" --check >/dev/null || fail "--check of the installed config"
SNORKY_BACKEND_KEY=package-test "$root/usr/bin/snorky" --config "$root/etc/snorky/snorky.toml" --port 0 --backend-port 0 \
  --threads 1 --ready-file "$work/ready.json" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -e "$work/ready.json" ] && break; sleep 0.05; done
[ -e "$work/ready.json" ] || { cat "$work/server.log"; fail "the installed server did not start"; }
backend_port=$(grep -o '"type":"backend"[^}]*"port":[0-9]*' "$work/ready.json" | sed 's/.*://')
health=$(curl -sS --max-time 5 "http://127.0.0.1:$backend_port/health")
echo "$health" | grep -q '"status":"ok"' || fail "/health said: $health"
reply=$("$root/usr/bin/snorky-call" --url "http://127.0.0.1:$backend_port/backend" --key package-test \
        pubsub_backend publish channel=c message=m)
[ "$reply" = "null" ] || fail "snorky-call said: $reply"

# The -dev package: find_package(SnorkyConnector) resolves snorky::connector.
mkdir -p "$work/consumer"
cat > "$work/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
find_package(SnorkyConnector REQUIRED)
if(NOT TARGET snorky::connector)
  message(FATAL_ERROR "no snorky::connector")
endif()
CMAKE
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$root/usr" >"$work/consumer.log" 2>&1 \
  || { cat "$work/consumer.log"; fail "find_package(SnorkyConnector)"; }
echo "package OK: $(basename "$server_deb") $(basename "$dev_deb")"
