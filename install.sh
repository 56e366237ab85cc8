#!/usr/bin/env bash
# Installs ailab on an Ubuntu host: the binary, the systemd units and timers, journald limits,
# Docker log rotation, and a first health report. Safe to run again: it changes only what differs.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: sudo ./install.sh [--binary PATH] [--root DIR] [--enable TASK...] [--uninstall [--purge]]
       ./install.sh --deb OUTDIR [--binary PATH] [--deb-version VERSION]

  --binary PATH  install this built ailab (default: build it with swift build -c release --static-swift-stdlib)
  --enable TASK  also enable these tasks' timers: apt-cleanup, kernel-cleanup, docker-cleanup, upgrade, reboot
                 (healthcheck, disk-watch and config-backup are enabled on the first install; a timer
                 you disabled stays disabled when install.sh runs again)
  --root DIR     install into a staging root: no package installs, no systemctl, no service restarts
  --uninstall    stop and disable the timers, remove the binary, units, metrics and journald drop-in;
                 /var/lib/ailab (the upgrade's rollback points, ailab's records) is kept
  --purge        with --uninstall: remove /var/lib/ailab too
  --deb OUTDIR   build OUTDIR/ailab_<version>_amd64.deb instead of installing (no root needed; OUTDIR is made when missing)
  --deb-version  the package version (default: what the binary's --version says)
                 (Docker's daemon.json and the backups are left alone)
  --help         show this help
USAGE
}

die() {
    local status=$1
    shift
    printf 'install.sh: %s\n' "$*" >&2
    exit "$status"
}

say() { printf '%s\n' "$*"; }

binary=""
root=""
deb_dir=""
deb_version=""
uninstall=0
purge=0
enable=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --enable) [[ $# -ge 2 && $2 != -* ]] || die 2 "--enable needs a task such as apt-cleanup"; shift
            while [[ $# -gt 0 && $1 != -* ]]; do enable+=("$1"); shift; done ;;
        --binary) [[ $# -ge 2 ]] || die 2 "--binary needs a path"; binary=$2; shift 2 ;;
        --root) [[ $# -ge 2 ]] || die 2 "--root needs a folder"; root=${2%/}; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        --purge) purge=1; shift ;;
        --deb) [[ $# -ge 2 ]] || die 2 "--deb needs a folder"; deb_dir=${2%/}; shift 2 ;;
        --deb-version) [[ $# -ge 2 && $2 =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || die 2 "--deb-version needs a Debian version such as 0.2.0"
            deb_version=$2; shift 2 ;;
        --help | -h) usage; exit 0 ;;
        *) usage >&2; die 2 "unknown option '$1'" ;;
    esac
done

[[ -n $deb_dir || $(id -u) -eq 0 ]] || die 2 "must run as root (try: sudo $0 $*)"
[[ -z $root || -d $root ]] || die 2 "--root '$root' is not a folder"
[[ $purge -eq 0 || $uninstall -eq 1 ]] || die 2 "--purge goes with --uninstall"
# The README's `./install.sh --deb dist/` on a fresh clone: the folder is made when missing.
[[ -z $deb_dir ]] || [[ -d $deb_dir ]] || mkdir -p -- "$deb_dir" || die 2 "--deb '$deb_dir' cannot be made"
[[ -z $deb_dir || -d $deb_dir ]] || die 2 "--deb '$deb_dir' is not a folder"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Read-only and additive: enabled on the first install.
timers=(config-backup disk-watch healthcheck)
# They change the host: installed but left disabled until the administrator enables them.
optional_timers=(apt-cleanup kernel-cleanup docker-cleanup upgrade reboot)
for task in "${enable[@]}"; do
    [[ " ${timers[*]} ${optional_timers[*]} " == *" $task "* ]] || die 2 "--enable: unknown task '$task' (tasks: ${timers[*]} ${optional_timers[*]})"
done
units_dir=$root/etc/systemd/system
sbin=$root/usr/local/sbin
journald_dropin=$root/etc/systemd/journald.conf.d/ailab-limits.conf
textfile_dir=$root/var/lib/prometheus/node-exporter
config_dir=$root/etc/ailab
logrotate_rule=$root/etc/logrotate.d/ailab
manual=$root/usr/local/share/man/man8/ailab.8
completions=("$root/usr/local/share/bash-completion/completions/ailab" "$root/usr/local/share/zsh/site-functions/_ailab"
    "$root/usr/local/share/fish/vendor_completions.d/ailab.fish")

live() { [[ -z $root ]]; }

# Copies a file into place only when its content or mode differs, so a second run changes nothing.
place() {
    local source=$1 target=$2 mode=$3
    if [[ -f $target ]] && cmp -s "$source" "$target" && [[ $(stat -c %a "$target") == "${mode#0}" ]]; then
        return 1
    fi
    # Called as "place … || true" (1 means unchanged), where set -e does not apply: fail by hand.
    install -D -m "$mode" "$source" "$target" || die 1 "could not install $target"
    say "installed $target"
}

# Writes text to a file atomically (temporary file beside it, then rename), only when it differs.
write_file() {
    local target=$1 mode=$2 text=$3 temporary
    if [[ -f $target ]] && [[ $(cat "$target") == "$text" ]]; then
        return 1
    fi
    mkdir -p "$(dirname "$target")"
    temporary=$(mktemp "$target.XXXXXX")
    printf '%s\n' "$text" >"$temporary"
    chmod "$mode" "$temporary"
    mv -f "$temporary" "$target"
    say "wrote $target"
}

uninstall_all() {
    if live; then
        for timer in "${timers[@]}" "${optional_timers[@]}"; do
            systemctl disable --now "ailab-$timer.timer" 2>/dev/null || true
        done
        systemctl reset-failed 'ailab-*' 2>/dev/null || true
    fi
    local removed=0
    for timer in "${timers[@]}" "${optional_timers[@]}"; do
        for kind in service timer; do
            if [[ -e $units_dir/ailab-$timer.$kind ]]; then
                rm -f "$units_dir/ailab-$timer.$kind"
                removed=1
            fi
        done
    done
    if [[ -e $units_dir/ailab-notify@.service ]]; then
        rm -f "$units_dir/ailab-notify@.service"
        removed=1
    fi
    rm -f "$sbin/ailab"
    # Stale metrics would keep node_exporter serving them, and the timer alerts firing, for ever.
    rm -f "$root"/var/lib/systemd/timers/stamp-ailab-*.timer "$textfile_dir"/ailab-*.prom
    # The rollback points are the only way back from an upgrade: they go only when asked, as dpkg -P.
    if [[ -d $root/var/lib/ailab ]]; then
        if [[ $purge -eq 1 ]]; then
            rm -rf "$root/var/lib/ailab"
            say "removed $root/var/lib/ailab (rollback points and records)"
        else
            say "kept $root/var/lib/ailab (rollback points and records): add --purge to remove it"
        fi
    fi
    # The administrator's own ailab.yaml stays; the example goes.
    rm -f "$config_dir/ailab.yaml.example" "$logrotate_rule" "$manual" "${completions[@]}"
    if [[ -d $config_dir ]]; then rmdir --ignore-fail-on-non-empty "$config_dir"; fi
    if [[ -e $journald_dropin ]]; then
        rm -f "$journald_dropin"
        rmdir --ignore-fail-on-non-empty "$(dirname "$journald_dropin")"
        if live; then systemctl restart systemd-journald; fi
    fi
    if live && [[ $removed -eq 1 ]]; then systemctl daemon-reload; fi
    say "ailab removed; Docker's daemon.json, /etc/ailab/ailab.yaml, the logs in /var/log/ailab-*.log and the backups in /srv/backups/ailab-config were left alone"
}

build_binary() {
    command -v swift >/dev/null 2>&1 ||
        die 2 "no Swift toolchain found to build ailab; install Swift or pass --binary PATH to a built ailab"
    [[ -e /usr/include/sqlite3.h ]] ||
        die 2 "building ailab needs libsqlite3-dev (SQLite is linked into the binary): apt-get install libsqlite3-dev, or pass --binary PATH"
    say "building ailab (swift build -c release --static-swift-stdlib)"
    (cd "$here" && swift build -c release --static-swift-stdlib >&2)
    binary="$here/.build/release/ailab"
}

install_packages() {
    live || return 0
    local wanted=(smartmontools jq pigz logrotate util-linux coreutils tar gzip) missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f '${db:Status-Abbrev}' "$package" 2>/dev/null | grep -q '^ii' || missing+=("$package")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        say "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

configure_journald() {
    if write_file "$journald_dropin" 0644 "$(printf '%s\n' '[Journal]' 'SystemMaxUse=1G' 'SystemKeepFree=2G' \
        'MaxRetentionSec=14day' 'Compress=yes')"; then
        if live; then systemctl restart systemd-journald; fi
    fi
    return 0
}

docker_present() {
    if live; then command -v docker >/dev/null 2>&1 || [[ -d /etc/docker ]]; else [[ -d $root/etc/docker ]]; fi
}

# Refuses a binary that cannot start here (a missing shared library exits 127) before anything changes.
check_binary() {
    [[ -x $binary ]] || die 2 "--binary '$binary' is not an executable file"
    local output
    output=$("$binary" --version 2>&1) ||
        die 2 "--binary '$binary' does not run on this host (nothing was changed): ${output%%$'\n'*}"
    # Installed stripped (a quarter of the size); the given file itself is left as it is.
    if command -v strip >/dev/null 2>&1; then
        stripped=$(mktemp)
        trap 'rm -f "$stripped"' EXIT
        strip --strip-unneeded -o "$stripped" "$binary"
        chmod 0755 "$stripped"
        binary=$stripped
    fi
}

check_docker_config() {
    docker_present || return 0
    command -v jq >/dev/null 2>&1 || die 1 "jq is needed to edit /etc/docker/daemon.json (apt-get install jq)"
    local config=$root/etc/docker/daemon.json
    if [[ -f $config ]]; then
        jq -e 'type == "object"' "$config" >/dev/null 2>&1 ||
            die 1 "$config is not a valid JSON object; fix it first (it was left untouched)"
    fi
    return 0
}

# Merges json-file log rotation into daemon.json, keeping every other key (inside log-opts too).
configure_docker() {
    docker_present || return 0
    local config=$root/etc/docker/daemon.json current merged
    current='{}'
    if [[ -f $config ]]; then current=$(cat "$config"); fi
    merged=$(jq -S '."log-driver" = "json-file" | ."log-opts" = ((."log-opts" // {}) + {"max-size": "50m", "max-file": "5"})' <<<"$current")
    if [[ -f $config ]] && [[ $(jq -S . "$config") == "$merged" ]]; then
        return 0
    fi
    if [[ -f $config ]]; then
        cp -p "$config" "$config.ailab-backup-$(date +%Y%m%d-%H%M%S)"
        say "backed up $config"
    fi
    write_file "$config" 0644 "$merged" || true
    live && systemctl is-active --quiet docker || return 0
    # A restart stops every running container (training jobs) unless live-restore is on.
    local running
    running=$(docker ps -q 2>/dev/null | wc -l)
    if [[ $running -eq 0 ]] || [[ $(jq -r '."live-restore" // false' "$config") == true ]]; then
        systemctl restart docker
    else
        say "Docker's log limits apply at its next restart: $running container(s) are running and were left alone"
    fi
}

install_all() {
    [[ -n $binary ]] || build_binary
    check_binary
    install_packages
    check_docker_config
    place "$binary" "$sbin/ailab" 0755 || true
    local changed=0
    for unit in "$here"/systemd/ailab-*.service "$here"/systemd/ailab-*.timer; do
        if place "$unit" "$units_dir/$(basename "$unit")" 0644; then changed=1; fi
    done
    # Only the example is ever written: an existing /etc/ailab/ailab.yaml is the administrator's.
    place "$here/etc/ailab.yaml.example" "$config_dir/ailab.yaml.example" 0644 || true
    place "$here/etc/logrotate.ailab" "$logrotate_rule" 0644 || true
    place "$here/etc/ailab.8" "$manual" 0644 || true
    write_completions "$binary" "${completions[@]}"
    install -d -m 0700 "$root/srv/backups/ailab-config"
    install -d -m 0700 "$root/var/lib/ailab"
    install -d -m 0755 "$root/var/lib/prometheus/node-exporter"
    configure_journald
    configure_docker
    if live; then
        if [[ $changed -eq 1 ]]; then systemctl daemon-reload; fi
        # Each default timer is enabled once: a timer the administrator disabled stays so.
        local state=$root/var/lib/ailab/timers-enabled-once
        touch "$state"
        for timer in "${timers[@]}"; do
            grep -qx "$timer" "$state" && continue
            systemctl enable --now --quiet "ailab-$timer.timer"
            echo "$timer" >>"$state"
        done
        for timer in "${enable[@]}"; do
            systemctl enable --now --quiet "ailab-$timer.timer"
            say "enabled ailab-$timer.timer"
        done
    fi
    local report=$root/root/ailab-healthcheck-now.txt
    mkdir -p "$(dirname "$report")"
    rm -f "$report"
    if "$sbin/ailab" healthcheck --output "$report" >/dev/null; then
        say "first health report: $report"
    elif [[ -f $report ]]; then
        say "first health report: $report (it found problems; read it)"
    else
        say "the first health report could not be written; run: ailab healthcheck" >&2
    fi
}

# Shell completions for bash, zsh and fish, generated by the binary itself.
write_completions() {
    local binary=$1 shell target
    shift
    for shell in bash zsh fish; do
        target=$1
        shift
        # Completion files are sourced, not run: no #! line.
        write_file "$target" 0644 "$("$binary" --generate-completion-script "$shell" | sed '1{/^#!/d}')" || true
    done
}

# The .deb: the same files, Debian's places (/usr/sbin, /usr/lib/systemd/system), the example
# configuration as a conffile, and maintainer scripts that only touch ailab's own timers.
build_deb() {
    [[ -n $binary ]] || build_binary
    check_binary
    local version=${deb_version:-$("$binary" --version)} stage
    stage=$(mktemp -d)
    chmod 0755 "$stage"
    install -D -m 0755 "$binary" "$stage/usr/sbin/ailab"
    for unit in "$here"/systemd/ailab-*.service "$here"/systemd/ailab-*.timer; do
        install -D -m 0644 "$unit" "$stage/usr/lib/systemd/system/$(basename "$unit")"
        sed -i 's#^ExecStart=/usr/local/sbin/ailab #ExecStart=/usr/sbin/ailab #' "$stage/usr/lib/systemd/system/$(basename "$unit")"
    done
    install -D -m 0644 "$here/etc/ailab.yaml.example" "$stage/etc/ailab/ailab.yaml.example"
    install -D -m 0644 "$here/etc/logrotate.ailab" "$stage/etc/logrotate.d/ailab"
    install -d -m 0755 "$stage/usr/share/man/man8"
    gzip -9n <"$here/etc/ailab.8" >"$stage/usr/share/man/man8/ailab.8.gz"
    chmod 0644 "$stage/usr/share/man/man8/ailab.8.gz"
    write_completions "$binary" "$stage/usr/share/bash-completion/completions/ailab" "$stage/usr/share/zsh/vendor-completions/_ailab" \
        "$stage/usr/share/fish/vendor_completions.d/ailab.fish" >/dev/null
    install -d -m 0755 "$stage/usr/share/doc/ailab"
    { printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: ailab\n\n'
      printf 'Files: *\nCopyright: ailab contributors\nLicense: MIT\n'
      sed 's/^$/./; s/^/ /' "$here/LICENSE"; } >"$stage/usr/share/doc/ailab/copyright"
    # Dated when it was built (or at SOURCE_DATE_EPOCH, for a reproducible build).
    printf 'ailab (%s) unstable; urgency=medium\n\n  * Release %s: see /usr/share/doc/ailab/README.md.gz.\n\n -- ailab maintainers <ailab@example.org>  %s\n' \
        "$version" "$version" "$(date -R ${SOURCE_DATE_EPOCH:+-d @"$SOURCE_DATE_EPOCH"})" | gzip -9n >"$stage/usr/share/doc/ailab/changelog.gz"
    gzip -9n <"$here/README.md" >"$stage/usr/share/doc/ailab/README.md.gz"
    # The reference pages the README links to, for administrators: the developers' pages stay behind.
    install -d -m 0755 "$stage/usr/share/doc/ailab/docs"
    for page in TASKS CONFIGURATION METRICS FLEET JSON; do
        gzip -9n <"$here/docs/$page.md" >"$stage/usr/share/doc/ailab/docs/$page.md.gz"
        chmod 0644 "$stage/usr/share/doc/ailab/docs/$page.md.gz"
    done
    install -d -m 0755 "$stage/usr/share/doc/ailab/examples"
    install -m 0644 "$here/etc/ailab.yaml.example" "$stage/usr/share/doc/ailab/examples/ailab.yaml"
    chmod 0644 "$stage/usr/share/doc/ailab/"*.gz "$stage/usr/share/doc/ailab/copyright"
    install -d -m 0755 "$stage/DEBIAN"
    cat >"$stage/DEBIAN/control" <<CONTROL
Package: ailab
Version: $version
Architecture: amd64
Maintainer: ailab maintainers <ailab@example.org>
Section: admin
Priority: optional
Depends: libc6 (>= 2.35), libgcc-s1, libstdc++6
Recommends: smartmontools, pigz, jq, logrotate, curl, iproute2
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: keeps an Ubuntu AI-lab host healthy
 Read-only reports (healthcheck, disk-watch, vm-audit) and dry-run-first
 maintenance (apt-cleanup, kernel-cleanup, docker-cleanup, config-backup,
 upgrade) for GPU hosts that also run Docker containers and libvirt VMs,
 with systemd timers and Prometheus textfile metrics.
CONTROL
    printf '%s\n' /etc/ailab/ailab.yaml.example /etc/logrotate.d/ailab >"$stage/DEBIAN/conffiles"
    local enabled="${timers[*]}" optional="${optional_timers[*]}" all="${timers[*]} ${optional_timers[*]}"
    # dh_installsystemd's rules, through deb-systemd-helper: a default timer is enabled on the
    # first install only; an administrator's disable survives upgrades and reinstalls.
    cat >"$stage/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
if [ "\$1" = configure ] || [ "\$1" = abort-upgrade ]; then
    install -d -m 0700 /srv/backups/ailab-config
    install -d -m 0700 /var/lib/ailab
    install -d -m 0755 /var/lib/prometheus/node-exporter
    for timer in $enabled; do
        deb-systemd-helper unmask "ailab-\$timer.timer" >/dev/null || true
        if deb-systemd-helper --quiet was-enabled "ailab-\$timer.timer"; then
            deb-systemd-helper enable "ailab-\$timer.timer" >/dev/null || true
        else
            deb-systemd-helper update-state "ailab-\$timer.timer" >/dev/null || true
        fi
    done
    for timer in $optional; do deb-systemd-helper update-state "ailab-\$timer.timer" >/dev/null || true; done
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        for timer in $enabled; do deb-systemd-invoke start "ailab-\$timer.timer" >/dev/null || true; done
    fi
fi
POSTINST
    cat >"$stage/DEBIAN/prerm" <<PRERM
#!/bin/sh
set -e
if [ "\$1" = remove ] && [ -d /run/systemd/system ]; then
    for timer in $all; do deb-systemd-invoke stop "ailab-\$timer.timer" >/dev/null || true; done
fi
PRERM
    cat >"$stage/DEBIAN/postrm" <<POSTRM
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
    if [ "\$1" = remove ] || [ "\$1" = purge ]; then systemctl reset-failed 'ailab-*' >/dev/null 2>&1 || true; fi
fi
if [ "\$1" = remove ] || [ "\$1" = purge ]; then
    # Stale metrics would keep node_exporter serving them, and the timer alerts firing, for ever.
    rm -f /var/lib/systemd/timers/stamp-ailab-*.timer /var/lib/prometheus/node-exporter/ailab-*.prom
fi
if [ "\$1" = remove ]; then
    for timer in $all; do deb-systemd-helper mask "ailab-\$timer.timer" >/dev/null || true; done
fi
if [ "\$1" = purge ]; then
    for timer in $all; do
        deb-systemd-helper purge "ailab-\$timer.timer" >/dev/null || true
        deb-systemd-helper unmask "ailab-\$timer.timer" >/dev/null || true
    done
    rm -rf /var/lib/ailab
    rmdir --ignore-fail-on-non-empty /etc/ailab 2>/dev/null || true
fi
POSTRM
    chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
    (cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
    dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb_dir/ailab_${version}_amd64.deb" >/dev/null
    rm -rf "$stage"
    say "built $deb_dir/ailab_${version}_amd64.deb"
}

if [[ -n $deb_dir ]]; then build_deb; elif [[ $uninstall -eq 1 ]]; then uninstall_all; else install_all; fi
