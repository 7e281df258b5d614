#!/usr/bin/env bash
# Turn a run's Allure results into a static HTML report, with Allure's analytics off.
#
#   scripts/allure_report.sh [RUN_DIR]      (default RUN_DIR: reports/latest)
#
# Reads RUN_DIR/allure-results (written by allure-pytest) and writes RUN_DIR/allure-report.
# The generator is Allure 2 (`allure-commandline` from the npm registry, which bundles its
# jar and runs on the system Java), installed at a pinned version under ALLURE_NODE_PREFIX
# (tox sets it to a folder inside .tox/), so nothing global is touched.
#
# Environment (tox's `allure` env sets all of these):
#   ALLURE_COMMANDLINE_VERSION  pinned npm version of allure-commandline (default 2.46.1)
#   ALLURE_NODE_PREFIX          npm --prefix for the install (default .tox/allure-node)
#   ALLURE_NO_ANALYTICS         must be "true" (Allure 2 ignores "1"); forced to "true" here
set -euo pipefail

run_dir="${1:-reports/latest}"
run_dir="${run_dir%/}"
results="$run_dir/allure-results"
report="$run_dir/allure-report"
version="${ALLURE_COMMANDLINE_VERSION:-2.46.1}"
prefix="${ALLURE_NODE_PREFIX:-.tox/allure-node}"

# Allure 2 only honours the literal value "true"; anything else leaves the gtag script in.
export ALLURE_NO_ANALYTICS=true

die() {
    echo "allure: $*" >&2
    exit 1
}

if [[ ! -d "$results" ]] || [[ -z "$(ls -A "$results" 2>/dev/null)" ]]; then
    die "no Allure results at $results: run the diagnostics first"
fi

command -v java >/dev/null 2>&1 \
    || die "allure-commandline needs a Java runtime: apt-get install default-jre-headless"
command -v npm >/dev/null 2>&1 || die "npm not found: apt-get install npm"

allure_bin="$prefix/node_modules/.bin/allure"
pkg_json="$prefix/node_modules/allure-commandline/package.json"
installed=""
if [[ -x "$allure_bin" && -f "$pkg_json" ]]; then
    installed="$(node -p 'require(process.argv[1]).version' "$(realpath "$pkg_json")" 2>/dev/null || true)"
fi
if [[ "$installed" != "$version" ]]; then
    echo "allure: installing allure-commandline@$version into $prefix"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --save-exact --no-audit --no-fund --loglevel=error \
        "allure-commandline@$version"
fi

"$allure_bin" generate "$results" --clean -o "$report"

# Guard: fail loudly if an analytics loader slipped into the report anyway.
if grep -rqsE 'googletagmanager|google-analytics\.com|gtag\(' "$report/index.html"; then
    die "analytics script found in $report/index.html (is ALLURE_NO_ANALYTICS=true reaching allure?)"
fi
echo "allure: report at $report/index.html"
