#!/usr/bin/env bash
# Runs mpk-sys's hardware tests and its two_functions example on a CPU with
# memory protection keys: QEMU's software CPU (TCG, `-cpu max`, which has
# PKU) booting Debian's stock kernel with a tiny initramfs.
#
# Our machines have no PKU, so this is where the keys are exercised for real.
# The script installs what it needs by itself, without touching the system's
# packages (the image has qemu-utils from backports, which installing
# Debian's qemu-system-x86 would remove): it `apt-get download`s QEMU, the
# libraries it lacks, busybox and a kernel, and unpacks them with
# `dpkg-deb -x` into a private folder, kept as a cache between runs:
#   ${PKU_VM_CACHE:-<cargo target dir>/pku-vm}
#
# Exits 0 only if the guest's final line is `guest: N passed, 0 failed` with
# every test counted; that line is printed last.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$SECONDS

target_dir=${CARGO_TARGET_DIR:-$repo/target}
cache=${PKU_VM_CACHE:-$target_dir/pku-vm}
debs=$cache/debs
tools=$cache/root
work=$cache/run
mkdir -p "$debs" "$tools"

say() { echo "pku-vm: $*"; }
die() {
    echo "pku-vm: error: $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------
# 1. QEMU, busybox and a kernel, unpacked privately.

# QEMU's packages and the shared libraries the machine image lacks for it
# (found with ldd); anything else still missing is fetched below.
packages=(
    qemu-system-x86 qemu-system-common qemu-system-data seabios busybox-static
    libcapstone4 libfdt1 libpmem1 libndctl6 libdaxctl1 librdmacm1 libibverbs1
    libnl-3-200 libnl-route-3-200 libslirp0 libvdeplug2
)

apt_opts=(-q)
if [ "$(id -u)" = 0 ]; then
    # Download into our folder as root without apt's `_apt` sandbox warning.
    apt_opts+=(-o APT::Sandbox::User=root)
fi

apt_updated=
apt_update() {
    if [ -z "$apt_updated" ]; then
        say "apt-get update"
        apt-get update -q >/dev/null || die "apt-get update failed (run as root?)"
        apt_updated=1
    fi
}

# Downloads the given packages into $debs and unpacks them into $tools.
fetch() {
    (cd "$debs" && apt-get download "${apt_opts[@]}" "$@" >/dev/null) || return 1
    local pkg deb
    for pkg in "$@"; do
        for deb in "$debs/${pkg}"_*.deb; do
            dpkg-deb -x "$deb" "$tools"
        done
    done
}

qemu=$tools/usr/bin/qemu-system-x86_64
libpath=$tools/usr/lib/x86_64-linux-gnu:$tools/lib/x86_64-linux-gnu
run_qemu() { LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$qemu" "$@"; }
missing_libs() { LD_LIBRARY_PATH=$libpath ldd "$qemu" 2>/dev/null | awk '/not found/ {print $1}' | sort -u; }

if ! run_qemu --version >/dev/null 2>&1 || [ ! -x "$tools/bin/busybox" ]; then
    say "fetching QEMU and busybox into $tools"
    # Lists may be missing or stale on a fresh machine: update first then.
    if ! apt-cache show qemu-system-x86 >/dev/null 2>&1 || ! fetch "${packages[@]}"; then
        apt_update
        fetch "${packages[@]}" || die "apt-get download of the QEMU packages failed"
    fi
    if [ -n "$(missing_libs)" ]; then
        # Another image: fetch every package QEMU depends on that is not
        # installed, and look again.
        say "QEMU still lacks $(missing_libs | tr '\n' ' '); fetching its uninstalled dependencies"
        deps=()
        while read -r pkg; do
            case "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)" in
                ii*) ;;
                *) deps+=("$pkg") ;;
            esac
        done < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances qemu-system-x86 2>/dev/null |
            grep -v -e '^ ' -e '^<' | sort -u)
        for pkg in "${deps[@]}"; do
            fetch "$pkg" || say "could not fetch $pkg (skipped)"
        done
    fi
    if [ -n "$(missing_libs)" ]; then
        die "QEMU cannot find these libraries: $(missing_libs | tr '\n' ' ')"
    fi
    run_qemu --version >/dev/null || die "the unpacked QEMU does not run"
fi
say "$(run_qemu --version | head -n 1)"

kernel=$(find "$tools/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort | tail -n 1 || true)
if [ -z "$kernel" ]; then
    # linux-image-amd64 depends on the current versioned image package.
    kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
    if [ -z "$kernel_pkg" ]; then
        apt_update
        kernel_pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
    fi
    [ -n "$kernel_pkg" ] || die "cannot find the package behind linux-image-amd64"
    say "fetching the kernel ($kernel_pkg)"
    fetch "$kernel_pkg" || { apt_update && fetch "$kernel_pkg"; } || die "apt-get download $kernel_pkg failed"
    kernel=$(find "$tools/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)
    [ -n "$kernel" ] || die "$kernel_pkg has no boot/vmlinuz-*"
    # Keep only what is booted; the modules are not needed.
    rm -rf "$tools/lib/modules" "$tools/usr/lib/modules" "$debs/${kernel_pkg}"_*.deb
fi
config=${kernel/vmlinuz-/config-}
if [ -f "$config" ] && ! grep -q '^CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS=y' "$config"; then
    die "$(basename "$kernel") is built without CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS"
fi
say "kernel $(basename "$kernel")"

# ---------------------------------------------------------------------------
# 2. Static test binaries (glibc, crt-static), so the guest needs no libraries.

say "building the hardware tests and the example as static binaries"
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
triple=x86_64-unknown-linux-gnu
executables() { grep -o '"executable":"[^"]*"' | sed 's/^"executable":"//; s/"$//'; }
hardware=$(cargo test -q -p mpk-sys --test hardware --no-run --target "$triple" \
    --message-format=json-render-diagnostics | executables | grep '/deps/hardware-' | tail -n 1)
example=$(cargo build -q -p mpk-sys --example two_functions --target "$triple" \
    --message-format=json-render-diagnostics | executables | grep '/examples/two_functions' | tail -n 1)
[ -x "$hardware" ] || die "no hardware test binary was built"
[ -x "$example" ] || die "no example binary was built"
for bin in "$hardware" "$example"; do
    if ldd "$bin" 2>/dev/null | grep -q '=>'; then
        die "$bin is dynamically linked"
    fi
done
# Every hardware test, plus the example.
expected=$(($("$hardware" --list | grep -c ': test$') + 1))

# ---------------------------------------------------------------------------
# 3. The initramfs: busybox, the init script, the two binaries.

rm -rf "$work"
mkdir -p "$work/initrd/bin" "$work/initrd/proc" "$work/initrd/sys" "$work/initrd/dev" "$work/initrd/tmp"
cp "$tools/bin/busybox" "$work/initrd/bin/busybox"
cp scripts/pku-vm/init "$work/initrd/init"
cp "$hardware" "$work/initrd/bin/hardware"
cp "$example" "$work/initrd/bin/two_functions"
chmod 755 "$work/initrd/init" "$work/initrd/bin/"*
(cd "$work/initrd" && find . | "$tools/bin/busybox" cpio -o -H newc 2>/dev/null) | gzip -1 >"$work/initrd.cpio.gz"

# ---------------------------------------------------------------------------
# 4. Boot. QEMU exits 0 at power-off whatever happened: the guest's output
#    decides.

say "booting under QEMU (TCG, -cpu max, 2 CPUs)"
status=0
timeout 300 env LD_LIBRARY_PATH="$libpath" "$qemu" \
    -L "$tools/usr/share/qemu" -L "$tools/usr/share/seabios" \
    -accel tcg -machine q35 -cpu max -smp 2 -m 512 \
    -nic none -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initrd.cpio.gz" \
    -append 'console=ttyS0 panic=-1 quiet' \
    </dev/null 2>&1 | sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' |
    tee "$work/console.log" || status=$?
[ "$status" = 0 ] || say "QEMU exited with status $status"

result=$(grep -a -E '^guest: [0-9]+ passed, [0-9]+ failed$' "$work/console.log" | tail -n 1 || true)
say "done in $((SECONDS - start)) s (console log: $work/console.log)"
if [ -z "$result" ]; then
    die "the guest printed no 'guest: N passed, M failed' line"
fi
passed=$(echo "$result" | sed -E 's/^guest: ([0-9]+) passed.*/\1/')
failed=$(echo "$result" | sed -E 's/^guest: [0-9]+ passed, ([0-9]+) failed$/\1/')
if [ "$failed" != 0 ] || [ "$passed" != "$expected" ]; then
    echo "$result"
    die "expected $expected passed, 0 failed"
fi
echo "$result"
