#!/usr/bin/env bash
# System packages the test suite needs beyond the Python lock: headless Chromium (renders the finance
# report's HTML), CJK fonts (Chinese account names in charts), LibreOffice Calc + poppler (the workbook
# printed to PDF and read back), and the PostgreSQL server (dbt, Airflow metadata and the warehouse on
# PostgreSQL, started on loopback by the tests). Idempotent: installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -i "noto.*cjk" >/dev/null || need+=(fonts-noto-cjk)  # not -q: pipefail + SIGPIPE
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "error: ${need[*]} missing and not root; install them with apt-get (Debian/Ubuntu)" >&2; exit 1
  fi
else SUDO=""; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
