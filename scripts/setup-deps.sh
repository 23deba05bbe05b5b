#!/usr/bin/env bash
# Installs the system packages tpcds-bench and its native stack need, from Debian.
# Idempotent: installs only what is missing, and runs `apt-get update` only then.
set -euo pipefail

PACKAGES=(
  # building rdkafka's bundled librdkafka
  cmake pkg-config libssl-dev libsasl2-dev zlib1g-dev libcurl4-openssl-dev
  # the native stack: MySQL-protocol server and the warehouse stand-in
  mariadb-server mariadb-client postgresql
  # charts: plotters renders text through fontconfig
  fontconfig libfontconfig1-dev fonts-dejavu-core
  # capacity comparison (issue 5) and the compose checker
  sysbench python3-yaml
  # fetching jars and Python sdists
  curl ca-certificates
  # the clock-skew test: a second PostgreSQL whose clock reads 250 ms ahead
  libfaketime
  # watching a run live (issue 25): Prometheus and the databases' exporters
  prometheus prometheus-mysqld-exporter prometheus-postgres-exporter
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # The packaged services must not start themselves (the native stack runs its own
  # on the same ports): deny service starts for this install only.
  created_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  [ -z "$created_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
else
  echo "setup-deps: all system packages present"
fi

command -v cargo >/dev/null || { echo "setup-deps: cargo not found: install Rust stable (rustup) first" >&2; exit 1; }
command -v java >/dev/null || { echo "setup-deps: java not found: install a JDK 17 (Debian: openjdk-17-jre-headless)" >&2; exit 1; }
