#!/usr/bin/env bash
# Install everything the test suite needs and run it: the README's second command.
#  - Debian packages: PostgreSQL server, Chromium and Redis (apt-get, when missing and we are root)
#  - Python: a virtual environment in .venv with the package and its test extras
#  - npm: axe-core, injected into pages by the browser tests, and the Nu HTML checker (vnu-jar, on Java)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/redis-server ] || need+=(redis-server)  # tests/test_rate_limit.py starts its own
# WeasyPrint (transcripts as PDF files) draws its text with Pango, in a font that must be installed.
ldconfig -p 2>/dev/null | grep 'libpangoft2-1.0.so.0' >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)  # the Nu HTML checker (tests/browser/nu.py)
# Certificates: the PDF drawn as an image, its QR code read back (tests/test_credentials_pdf.py).
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
command -v dot >/dev/null 2>&1 || need+=(graphviz)  # authored conversations' maps (app/author/maps.py)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages: ${need[*]}. Install them: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "Installing Debian packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import app, pytest, playwright" # fail here, clearly, if the install did not work

if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/vnu-jar/build/dist/vnu.jar ] || [ ! -f node_modules/gift-pegjs/pegjs-gift.js ] \
  || [ ! -f node_modules/scorm-again/dist/scorm-again.min.js ]; then  # scorm-again: the LMS of tests/browser/test_scorm_pages.py
  npm ci --silent --no-audit --no-fund
fi

pg_dir=$(mktemp -d /tmp/alliance-pg.XXXXXX)
trap '.ci/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
ALLIANCE_TEST_POSTGRES_URL=$(ALLIANCE_PG_PORT=${ALLIANCE_PG_PORT:-54330} .ci/postgres.sh start "$pg_dir")
export ALLIANCE_TEST_POSTGRES_URL

.venv/bin/ruff check app tests benchmarks
# Keep compiled bytecode between the run's processes (workers, and the CLI, server and worker processes the
# tests start): with PYTHONDONTWRITEBYTECODE set, as on some machines, each would compile the app afresh.
unset PYTHONDONTWRITEBYTECODE
# One worker per core and one more (PYTEST_WORKERS to choose): about a seventh of the CPU sat idle with one
# per core while tests waited on browsers, servers and subprocesses (2 cores: 839 s with 2 workers, 722 s
# with 3, in clean-clone runs on one machine). A test file stays on one worker, in order, because the
# browser tests of a file build on one server's state.
workers=${PYTEST_WORKERS:-$(( $(nproc 2>/dev/null || echo 2) + 1 ))}
.venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
