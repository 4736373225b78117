# Shared by the scripts: can this machine's /dev/kvm run a Linux guest?
# (kvm_pvm cannot; see shared/KVM-HERE.md.)
kvm_runs_linux() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }
}
