#!/bin/sh
# Builds the test guest, build/guest/vmlinuz and build/guest/initrd.img, from Debian packages:
# the cloud kernel (linux-image-*-cloud-amd64), busybox-static, and the virtio (and a few other)
# modules, loaded from the initramfs in dependency order. The packages are fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` under build/guest/work; nothing is
# installed on the host. Does nothing when both outputs are newer than this script and the
# guest's files in scripts/guest/.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/scripts/guest"
out="$top/build/guest"
work="$out/work"

if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
  [ -z "$(find "$0" "$src" -newer "$out/initrd.img" -print -quit)" ] &&
  [ -z "$(find "$0" "$src" -newer "$out/vmlinuz" -print -quit)" ]; then
  exit 0
fi

# Drivers the guest loads (with whatever they depend on): virtio over PCI for NICs, disks and
# consoles; the balloon for <memballoon>; the ACPI power button (and evdev, which acpid reads)
# so system_powerdown shuts the guest down; pvpanic so a guest panic reaches QEMU. Debian's
# cloud kernel has no e1000/e1000e/rtl8139 drivers: only virtio NICs work in this guest.
modules="virtio_pci virtio_net virtio_blk virtio_console virtio_balloon button evdev pvpanic_pci pvpanic_mmio"

mkdir -p "$work/debs"
cd "$work/debs"

# apt-get download, with one `apt-get update` when the first try fails (no package lists yet,
# or lists that name a version the mirror no longer has).
download() {
  apt-get download -q -o APT::Sandbox::User=root "$@" >/dev/null 2>&1 && return 0
  echo "buildGuest: apt-get download $* failed; running apt-get update" >&2
  apt-get update -q >/dev/null
  apt-get download -q -o APT::Sandbox::User=root "$@"
}

resolveKernel() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

kpkg=$(resolveKernel)
if [ -z "$kpkg" ]; then
  apt-get update -q >/dev/null
  kpkg=$(resolveKernel)
fi
[ -n "$kpkg" ] || { echo "buildGuest: cannot resolve linux-image-cloud-amd64" >&2; exit 1; }

for pkg in "$kpkg" busybox-static; do
  ls "${pkg}"_*.deb >/dev/null 2>&1 || download "$pkg"
done

rm -rf "$work/kernel" "$work/busybox" "$work/root"
dpkg-deb -x "$(ls "${kpkg}"_*.deb | tail -n 1)" "$work/kernel"
dpkg-deb -x "$(ls busybox-static_*.deb | tail -n 1)" "$work/busybox"
bb="$work/busybox/bin/busybox"

kver=$(ls "$work/kernel/lib/modules" | head -n 1)
moddir="$work/kernel/lib/modules/$kver"
# The package leaves modules.dep to its postinst (depmod): make it here, with the unpacked
# busybox's depmod, against the unpacked tree only.
"$bb" depmod -b "$work/kernel" "$kver"

# Load order: each wanted module after everything it depends on, each module once
# (a depth-first walk of modules.dep). Names match with '-' and '_' alike, as modprobe does.
order=$(awk -v want="$modules" '
  function norm(p,   b) { b = p; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b); return b }
  function visit(m,   n, i, parts) {
    if (m in seen) return
    seen[m] = 1
    n = split(deps[m], parts, " ")
    for (i = 1; i <= n; i++) visit(parts[i])
    print m
  }
  {
    mod = $1; sub(/:$/, "", mod)
    deps[mod] = ""
    for (i = 2; i <= NF; i++) deps[mod] = deps[mod] " " $i
    byName[norm(mod)] = mod
  }
  END {
    n = split(want, names, " ")
    for (i = 1; i <= n; i++) {
      if (!(names[i] in byName)) { print "missing module " names[i] > "/dev/stderr"; exit 1 }
      visit(byName[names[i]])
    }
  }' "$moddir/modules.dep")

root="$work/root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc/acpi/PWRF" \
  "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp" "$root/root"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list-full); do
  [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$root/$applet"
done
# The kernel runs /init; as "init", busybox reads /etc/inittab.
ln -sf /bin/busybox "$root/init"

: >"$root/etc/modules"
for m in $order; do
  cp "$moddir/$m" "$root/lib/modules/"
  basename "$m" >>"$root/etc/modules"
done

install -m 0755 "$src/init" "$root/etc/init"
install -m 0644 "$src/inittab" "$root/etc/inittab"
install -m 0644 "$src/profile" "$root/etc/profile"
install -m 0755 "$src/udhcpc.script" "$root/etc/udhcpc.script"
# The path is fixed in busybox acpid's table: PWRF/00000080 is the power button.
install -m 0755 "$src/powerbutton" "$root/etc/acpi/PWRF/00000080"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"

# The unpacked busybox writes the archive too: the host needs no cpio. Owned by root, inode and
# device numbers made up, so the same inputs give the same archive.
(cd "$root" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0 --ignore-devno --renumber-inodes 2>/dev/null) |
  gzip -9n >"$out/initrd.img.tmp"
# A failed stage of the pipe above would not stop the script (sh has no pipefail): check it.
gzip -dc "$out/initrd.img.tmp" | "$bb" cpio -t 2>/dev/null | grep -qx init ||
  { echo "buildGuest: the initramfs came out broken" >&2; exit 1; }
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
# The unpacked kernel tree is 90 MB; keep only the downloaded packages for the next build.
rm -rf "$work/kernel" "$work/busybox"
echo "buildGuest: $out/vmlinuz ($kver), $out/initrd.img ($(wc -c <"$out/initrd.img") bytes)"
echo "buildGuest: modules: $(echo $order | sed "s#[^ ]*/##g")"
