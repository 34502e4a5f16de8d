# shellcheck shell=bash disable=SC2034,SC2016,SC2054
# A "VM": systemd as PID 1, sshd, python3 and sudo, with a non-root user `deploy` allowed to sudo
# without a password. Its SSH port and authorized key are bind-mounted when a container starts.
# The apt lists and the supervisor packages stay in the image, so that installing the
# distribution's supervisor works on a host that cannot reach a mirror, as on a private VM.
MMDEBSTRAP_ARGS=(
  --include=systemd,systemd-sysv,dbus,openssh-server,python3,sudo,ca-certificates,procps
  --skip=cleanup/apt/lists
  --skip=cleanup/apt/cache
  --customize-hook='chroot "$1" apt-get install --download-only -y -qq supervisor'
  --customize-hook='chroot "$1" useradd --create-home --shell /bin/bash deploy'
  --customize-hook='echo "deploy ALL=(ALL) NOPASSWD:ALL" > "$1/etc/sudoers.d/deploy"'
  --customize-hook='chmod 0440 "$1/etc/sudoers.d/deploy"'
  --customize-hook='chroot "$1" install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh'
  --customize-hook='printf "ListenAddress 127.0.0.1\nPasswordAuthentication no\n" > "$1/etc/ssh/sshd_config.d/10-test-vm.conf"'
  --customize-hook='chroot "$1" systemctl mask getty@tty1.service console-getty.service'
)
