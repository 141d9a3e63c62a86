#!/usr/bin/env bash
# Builds the Dockerfile with podman and proves the image works: health check, non-root user, MQTT through
# the published port, a stored message kept in the data volume across a restart, SIGTERM exit code and time.
#
# No registry image can be pulled on these machines, so the base (what node:20-slim is elsewhere) is made
# here: Debian bookworm by debootstrap from the Debian archive, plus this machine's Node.js 20 (the node
# binary, its headers and npm copied in: Debian's own nodejs package is Node 18), imported with
# `podman import`. The base is kept between runs (--rebuild-base makes it again).
#
# Usage: bash scripts/container-check.sh [--rebuild-base]    (as root; installs podman and debootstrap)
# Not part of npm test.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=localhost/emitter-node20-base:bookworm
IMAGE=localhost/emitter-ts:check
NAME=emitter-check
VOLUME=emitter-check-data
PORT=${CONTAINER_CHECK_PORT:-18080}
REBUILD_BASE=0
[ "${1:-}" = "--rebuild-base" ] && REBUILD_BASE=1

# Options for every podman run and build. podman asks for a 1M open-file limit and the host's process limit
# by default; where the process may not raise its limits (no CAP_SYS_RESOURCE, as in this sandbox) the OCI
# runtime cannot set them and every container fails: ask for what this shell has, and 4096 processes.
LIMITS=(--ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" --ulimit nproc=4096:4096)

# Without systemd podman cannot schedule health checks (systemd timers) and says so on every run and stop;
# the check runs here with `podman healthcheck run` instead, so those lines are noise.
podman() { command podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }

say() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'FAILED: %s\n' "$*" >&2
  exit 1
}
cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
# podman's bridge network (CNI) plugins, a recommendation of podman rather than a dependency.
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  [ "$(id -u)" -eq 0 ] || fail "run as root (podman rootful, debootstrap) or install ${need[*]} first"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
node_version=$(node --version)
case "$node_version" in v20.*) ;; *) fail "this machine's node is $node_version; the image needs Node.js 20" ;; esac
say "podman $(podman --version | awk '{print $3}'), host node $node_version"

if [ "$REBUILD_BASE" = 1 ] || ! podman image exists "$BASE_IMAGE"; then
  say "making the base image $BASE_IMAGE (debootstrap bookworm, minbase)"
  rootfs=$(mktemp -d /var/tmp/emitter-base-XXXXXX)
  started=$(date +%s)
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" >"$rootfs.log" 2>&1 ||
    fail "debootstrap failed, see $rootfs.log"
  # Node.js 20 from this machine, where node:20-slim has it: /usr/local/{bin,include,lib}.
  node_bin=$(command -v node)
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/include" "$rootfs/usr/local/lib/node_modules"
  cp -a "$(dirname "$node_bin")/../include/node" "$rootfs/usr/local/include/node"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  echo "base image made in $(($(date +%s) - started)) s"
fi

# crun (podman's default runtime) refuses a hybrid cgroup v1/v2 layout with controllers on the v2 side, as in
# this sandbox; runc accepts it.
if ! podman run --rm "${LIMITS[@]}" "$BASE_IMAGE" true >/dev/null 2>&1; then
  if ! command -v runc >/dev/null 2>&1; then
    say "crun cannot run containers here; installing runc"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc >/dev/null
  fi
  LIMITS+=(--runtime runc)
  podman run --rm "${LIMITS[@]}" "$BASE_IMAGE" true || fail "neither crun nor runc can run a container here"
  echo "runtime: runc (crun: $(podman run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$BASE_IMAGE" true 2>&1 | tail -1))"
fi

echo "base: $(podman run --rm "${LIMITS[@]}" "$BASE_IMAGE" sh -c '. /etc/os-release; echo "$PRETTY_NAME, node $(node --version), npm $(npm --version)"')"

# --format docker: the OCI image format has no HEALTHCHECK (podman drops it with a warning).
say "podman build (BASE=$BASE_IMAGE)"
started=$(date +%s)
# npm in the build reaches the registry through this machine's proxy, whose certificate authority is in the
# host's bundle only: lend it to the build.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
ca_args=()
[ -r "$ca_bundle" ] && ca_args=(-v "$ca_bundle:/run/host-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt)
podman build --format docker "${LIMITS[@]}" "${ca_args[@]}" --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" -f Dockerfile . \
  >/var/tmp/emitter-container-build.log 2>&1 ||
  fail "podman build failed, see /var/tmp/emitter-container-build.log"
echo "built $IMAGE in $(($(date +%s) - started)) s, $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"

# A licence made with the image's own CLI, so keys made from its secret work in both runs.
licence_output=$(podman run --rm "${LIMITS[@]}" "$IMAGE" license)
LICENSE=$(awk '/^license:/ {print $2}' <<<"$licence_output")
SECRET=$(awk '/^secret:/ {print $2}' <<<"$licence_output")
[ -n "$LICENSE" ] && [ -n "$SECRET" ] || fail "emitter license printed nothing usable: $licence_output"

run_container() {
  podman run -d "${LIMITS[@]}" --name "$NAME" -p "127.0.0.1:$PORT:8080" -v "$VOLUME:/var/lib/emitter" \
    -e EMITTER_LICENSE="$LICENSE" -e EMITTER_STORAGE_PROVIDER=ssd "$IMAGE" >/dev/null
}

wait_healthy() {
  # The image's HEALTHCHECK, run directly (bounded) rather than by podman's systemd timer.
  for _ in $(seq 1 60); do
    if podman healthcheck run "$NAME" >/dev/null 2>&1; then
      echo "health check: $(podman inspect "$NAME" --format '{{.State.Health.Status}}')"
      return 0
    fi
    sleep 0.5
  done
  podman logs "$NAME" | tail -20
  fail "the container did not become healthy within 30 s"
}

say "first run (storage ssd in the volume $VOLUME)"
podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
run_container
wait_healthy
echo "user in the container: $(podman exec "$NAME" id -un) (uid $(podman exec "$NAME" id -u))"
[ "$(podman exec "$NAME" id -u)" != 0 ] || fail "the broker runs as root"
echo "banner: $(podman logs "$NAME" 2>&1 | grep '"service started"' | cut -c1-400)"
echo "GET /health from the host: $(curl -fsS "http://127.0.0.1:$PORT/health")"

# MQTT through the published port: a key from the secret, a stored message (ttl) and its live delivery.
node --input-type=module -e "
import mqtt from 'mqtt';
const client = await mqtt.connectAsync('mqtt://127.0.0.1:$PORT', { reconnectPeriod: 0, connectTimeout: 5000 });
const reply = (topic) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no reply on ' + topic)), 5000);
  client.on('message', (t, payload) => { if (t === topic) { clearTimeout(timer); resolve(payload.toString()); } });
});
const keyReply = reply('emitter/keygen/');
await client.publishAsync('emitter/keygen/', JSON.stringify({ key: '$SECRET', channel: 'check/', type: 'rwsl' }));
const { key } = JSON.parse(await keyReply);
const live = reply('check/');
await client.subscribeAsync(key + '/check/');
await client.publishAsync(key + '/check/?ttl=3600', 'kept in the volume', { qos: 1 });
console.log('MQTT through the published port: delivered \"' + (await live) + '\"');
await client.endAsync();
"

say "docker stop equivalent: podman stop (SIGTERM)"
started=$(date +%s%N)
podman stop -t 15 "$NAME" >/dev/null
stopped_ms=$((($(date +%s%N) - started) / 1000000))
exit_code=$(podman inspect "$NAME" --format '{{.State.ExitCode}}')
echo "stopped in $stopped_ms ms, exit code $exit_code"
[ "$exit_code" = 0 ] || fail "exit code $exit_code after SIGTERM"
[ "$stopped_ms" -lt 10000 ] || fail "stopping took $stopped_ms ms"
podman logs "$NAME" 2>&1 | grep -q '"msg":"stopped"' || fail "no \"stopped\" line in the logs"
podman rm "$NAME" >/dev/null

say "second run on the same volume: the stored message is still there"
run_container
wait_healthy
node --input-type=module -e "
import mqtt from 'mqtt';
const client = await mqtt.connectAsync('mqtt://127.0.0.1:$PORT', { reconnectPeriod: 0, connectTimeout: 5000 });
const wait = (topic) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no message on ' + topic)), 5000);
  client.on('message', (t, payload) => { if (t === topic) { clearTimeout(timer); resolve(payload.toString()); } });
});
const keyReply = wait('emitter/keygen/');
await client.publishAsync('emitter/keygen/', JSON.stringify({ key: '$SECRET', channel: 'check/', type: 'rl' }));
const { key } = JSON.parse(await keyReply);
const replay = wait('check/');
await client.subscribeAsync(key + '/check/?last=1');
console.log('replayed after the restart: \"' + (await replay) + '\"');
await client.endAsync();
"
podman stop -t 15 "$NAME" >/dev/null
say "container check passed"
