# The daemon's systemd sandbox (serviceConfig fragment). Pure data, builtins only.
#
# The daemon runs as root because it builds jails: it maps a range of host ids into each job's
# user namespace (CAP_SETUID/CAP_SETGID in the initial namespace), mounts the job's root
# (CAP_SYS_ADMIN), creates the job's network (CAP_NET_ADMIN) and job cgroups (a delegated
# subtree). Every option below either narrows what the daemon can do without taking away one of
# those, or is deliberately left off with the reason next to it. With the built-in namespace
# executor, whatever the service's seccomp filters forbid is also forbidden to every job, because
# jobs are the daemon's descendants; with executor.backend = "systemd" steps are transient units
# of PID 1 and get their own sandbox instead.
{
  # Capabilities the namespace executor, the job network and the caches use:
  #   SYS_ADMIN      mount, pivot_root, setns, unshare, btrfs subvolume ioctls
  #   NET_ADMIN      veth pairs, addresses and routes of job network namespaces
  #   SETUID/SETGID  uid_map/gid_map of a host id range other than the daemon's own ids
  #   SETPCAP        emptying the bounding set in the jail before exec
  #   SYS_CHROOT     entering the job's root
  #   CHOWN/FOWNER/FSETID/DAC_OVERRIDE/DAC_READ_SEARCH
  #                  job directories owned by the jail's host ids: create, chown, clean up
  #   KILL           signalling job processes that run as the jail's host ids
  #   SYS_RESOURCE   raising rlimits for the jail before lowering them per step
  # Not granted, among others: SYS_MODULE, SYS_RAWIO, SYS_PTRACE (the daemon owns the jails' user
  # namespaces, which is enough for their /proc entries), SYS_TIME, MKNOD (a jail's /dev holds
  # bind mounts of the host's nodes), NET_RAW, BPF, SYS_BOOT.
  CapabilityBoundingSet = [
    "CAP_SYS_ADMIN"
    "CAP_NET_ADMIN"
    "CAP_SETUID"
    "CAP_SETGID"
    "CAP_SETPCAP"
    "CAP_SYS_CHROOT"
    "CAP_CHOWN"
    "CAP_FOWNER"
    "CAP_FSETID"
    "CAP_DAC_OVERRIDE"
    "CAP_DAC_READ_SEARCH"
    "CAP_KILL"
    "CAP_SYS_RESOURCE"
  ];
  # No setuid/setgid/file-capability escalation for the daemon or any job.
  NoNewPrivileges = true;

  # The whole file system is read-only except the unit's State/Cache/Runtime directories (and a
  # custom cache.dir, added as ReadWritePaths). /nix/store stays read-only: roots are built
  # through the nix-daemon (NIX_REMOTE=daemon) and copied or snapshotted into the cache.
  ProtectSystem = "strict";
  ProtectHome = true;
  # A /tmp of its own for the jails' staging directories (mount points only).
  PrivateTmp = true;
  # A /dev with only the pseudo devices; a jail's /dev binds null, zero, full, random, urandom
  # and tty from here and mounts its own devpts.
  PrivateDevices = true;
  # The device cgroup, inherited by job cgroups: what a jail's /dev offers, nothing else.
  DevicePolicy = "closed";
  DeviceAllow = [
    "/dev/null rw"
    "/dev/zero rw"
    "/dev/full rw"
    "/dev/random rw"
    "/dev/urandom rw"
    "/dev/tty rw"
    "/dev/ptmx rw"
    "char-pts rw"
  ];
  ProtectKernelModules = true;
  ProtectClock = true;
  # These three are seccomp filters, so jobs inherit them: no realtime scheduling, no creating
  # setuid/setgid files (an archive with such bits fails to extract them), no personality
  # changes (setarch).
  RestrictRealtime = true;
  RestrictSUIDSGID = true;
  LockPersonality = true;
  SystemCallArchitectures = "native"; # jobs cannot run foreign-ABI (e.g. i686) binaries
  # AF_NETLINK for the job network (rtnetlink); jobs inherit the list.
  RestrictAddressFamilies = [
    "AF_UNIX"
    "AF_INET"
    "AF_INET6"
    "AF_NETLINK"
  ];
  # The jail installs its own seccomp filter (executor/namespace/seccomp_filter.cc) per step; a
  # service-wide SystemCallFilter would apply to every job on top of it, so none is set here.
  UMask = "0022"; # jail roots and workspaces must be reachable (o+x) by the jail's host ids

  # Deliberately off (each would break jail creation):
  # mounting a fresh /proc inside a new user+pid namespace is refused by the kernel when the
  # daemon's /proc has over-mounts (mount_too_revealing); these options add such over-mounts or
  # remount /proc with hidepid/subset.
  ProtectKernelTunables = false;
  ProtectKernelLogs = false;
  ProtectProc = "default";
  ProcSubset = "all";
  # Job cgroups are created in the delegated subtree, which must stay writable.
  ProtectControlGroups = false;
  # Installs a seccomp filter against sethostname(2); each jail sets the hostname of its own UTS
  # namespace.
  ProtectHostname = false;
  # Jails create user, mount, pid, ipc, uts, cgroup and network namespaces.
  RestrictNamespaces = false;
  # A private user namespace would take every capability in the initial namespace away.
  PrivateUsers = false;
  # The daemon talks to the forge and builds job networks in the host namespace.
  PrivateNetwork = false;
  # Inherited by jobs: JIT runtimes (node, java, python's ctypes) need writable+executable pages.
  MemoryDenyWriteExecute = false;
}
