#!/usr/bin/env bash
# The version is written once, in VERSION, and the license once, in LICENSE
# (MIT). What cannot read them (package.json, its lock file) must agree, and
# what reads them (CMake for `snorky --version`, pyproject.toml) must read
# them: this checks both. Usage: scripts/check-version.sh [path/to/snorky]
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(head -n1 VERSION)
fail=0
expect() {  # what, got, want
    if [[ "$2" != "$3" ]]; then echo "version_consistency: $1 is '$2', expected '$3'"; fail=1; fi
}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] || { echo "VERSION '$version' is not semver"; exit 1; }
expect "LICENSE's first line" "$(head -n1 LICENSE)" "MIT License"
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
expect "clients/js/package.json version" "$(json clients/js/package.json 'd["version"]')" "$version"
expect "clients/js/package.json license" "$(json clients/js/package.json 'd["license"]')" "MIT"
expect "clients/js/package-lock.json version" "$(json clients/js/package-lock.json 'd["packages"][""]["version"]')" "$version"
expect "clients/python/snorky/VERSION" "$(head -n1 clients/python/snorky/VERSION)" "$version"
grep -q '^license = { text = "MIT" }$' clients/python/pyproject.toml || { echo "version_consistency: pyproject.toml license is not MIT"; fail=1; }
grep -q '^version = {file = "snorky/VERSION"}$' clients/python/pyproject.toml || { echo "version_consistency: pyproject.toml does not read snorky/VERSION"; fail=1; }
if [[ $# -ge 1 ]]; then expect "snorky --version" "$("$1" --version)" "snorky $version (MIT License)"; fi
[[ $fail == 0 ]] && echo "version_consistency: $version, MIT, everywhere"
exit $fail
