# The module's core as pure functions of plain attrsets, builtins only (no nixpkgs lib), so that
# tests/nixos can evaluate it with a bare `nix-instantiate`:
#   instance option values -> the daemon's YAML settings (as an attrset),
#                          -> the registration script (text),
#                          -> the systemd service (attrset for systemd.services.<name>),
#                          -> assertions.
# default.nix feeds it the evaluated NixOS options and turns files into store paths.
let
  inherit (builtins)
    attrNames
    concatMap
    concatStringsSep
    elem
    filter
    foldl'
    hasAttr
    isAttrs
    isList
    isString
    length
    listToAttrs
    mapAttrs
    match
    replaceStrings
    ;

  # Like lib.recursiveUpdate: attrsets merge key by key, anything else in `b` replaces `a`.
  recursiveUpdate =
    a: b:
    a
    // mapAttrs (
      k: v: if hasAttr k a && isAttrs a.${k} && isAttrs v then recursiveUpdate a.${k} v else v
    ) b;

  # A shell word: single-quoted, with embedded single quotes closed and escaped.
  shellQuote = s: "'" + replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";

  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];

  unitName = name: "nixjail-runner-${name}";
  stateDir = name: "/var/lib/nixjail-runner/${name}";
  cacheDir = name: "/var/cache/nixjail-runner/${name}";
  runtimeDir = name: "/run/nixjail-runner/${name}";
  runnerFile = name: "${stateDir name}/.runner";
  # Where systemd puts LoadCredential= files for the service ($CREDENTIALS_DIRECTORY).
  credentialsDir = name: "/run/credentials/${unitName name}.service";
  credentialId = credName: "cred-${credName}";
  tokenCredential = "registration-token";

  optionalAttr = cond: attrs: if cond then attrs else { };

  # The document of a policy file from inline rules.
  policyDocument = rules: { inherit rules; };

  # A policy given as a path (string) is used as is; inline rules go through `writePolicy`.
  policyPath =
    writePolicy: fileName: policy:
    if isList policy then writePolicy fileName (policyDocument policy) else toString policy;

  credentialSettings =
    name: credName: c:
    {
      name = credName;
      inherit (c) hosts header;
    }
    // optionalAttr (c.dummy != null) { inherit (c) dummy; }
    // (
      if c.source == "file" then
        { file = "${credentialsDir name}/${credentialId credName}"; }
      else
        { env = c.env; }
    );

  # Every label with packages, a profile or a policy gets an entry in the `labels:` map.
  labelSettings =
    name: inst: writePolicy:
    let
      names = unique (attrNames inst.labelSettings ++ attrNames inst.policies);
      entry =
        label:
        let
          ls = inst.labelSettings.${label} or null;
        in
        optionalAttr (ls != null) { inherit (ls) packages profile; }
        // optionalAttr (hasAttr label inst.policies) {
          policy = policyPath writePolicy "nixjail-policy-${name}-${label}.yaml" inst.policies.${label};
        };
    in
    listToAttrs (
      map (label: {
        name = label;
        value = entry label;
      }) names
    );

  # Typed options -> the daemon's configuration (runner/config/runner_config.h), then `settings` on top.
  settingsFor =
    name: inst: writePolicy:
    let
      typed = {
        log = {
          level = inst.logLevel;
          format = "text"; # the journal adds its own timestamps
        };
        runner = {
          file = runnerFile name;
          inherit (inst) capacity labels;
          fetch_interval = "2s";
          fetch_timeout = "5s";
          job_timeout = inst.jobTimeout;
          shutdown_timeout = inst.shutdownTimeout;
        };
        labels = labelSettings name inst writePolicy;
        cache = {
          inherit (inst.cache) dir storage;
          git_budget = inst.cache.gitBudget;
          workspace_budget = inst.cache.workspaceBudget;
          roots_budget = inst.cache.rootsBudget;
          actions_cache_budget = inst.cache.actionsCacheBudget;
        };
        nix.nixpkgs = toString inst.nixpkgs;
        executor = {
          inherit (inst.executor) backend;
          limits =
            {
              inherit (inst.executor) memory pids;
            }
            // optionalAttr (inst.executor.cpuQuota != null) { cpu_quota = inst.executor.cpuQuota; }
            // optionalAttr (inst.executor.disk != null) { disk = inst.executor.disk; };
        };
        proxy =
          {
            credentials = map (credName: credentialSettings name credName inst.credentials.${credName}) (
              attrNames inst.credentials
            );
          }
          // optionalAttr (inst.defaultPolicy != null) {
            policy = policyPath writePolicy "nixjail-policy-${name}.yaml" inst.defaultPolicy;
          };
        database = "${stateDir name}/jobs.sqlite";
        metrics.address = if inst.metrics.address == null then "" else inst.metrics.address;
      };
    in
    recursiveUpdate typed inst.settings;

  registerScript =
    name: inst: package:
    let
      file = runnerFile name;
    in
    ''
      set -eu
      runner_file=${shellQuote file}
      # Registered before (or a runner file put there by hand): nothing to do.
      if [ -e "$runner_file" ]; then exit 0; fi
      token_file="''${CREDENTIALS_DIRECTORY:-/nonexistent}/${tokenCredential}"
      if [ ! -r "$token_file" ]; then
        echo "${unitName name}: no runner file at $runner_file and no registration token;" \
          "set services.nixjail-runner.instances.${name}.tokenFile, or write the file with" \
          "'nixjail-runner create-runner-file --runner-file $runner_file ...'" >&2
        exit 1
      fi
      exec ${package}/bin/nixjail-runner register --no-interactive \
        --instance ${shellQuote inst.url} \
        --token-file "$token_file" \
        --name ${shellQuote inst.name} \
        --labels ${shellQuote (concatStringsSep "," inst.labels)} \
        --runner-file "$runner_file"
    '';

  # The systemd.services.<unit> attrset. `paths` holds store paths: package, nix, git, systemd
  # (systemd-run, for executor.backend = "systemd"), configFile, registerScript (an executable
  # file with registerScript's text).
  serviceFor =
    name: inst: paths:
    let
      customCacheDir = inst.cache.dir != cacheDir name;
      fileCredentials = filter (credName: inst.credentials.${credName}.source == "file") (
        attrNames inst.credentials
      );
    in
    {
      description = "nixjail-runner ${name} (Forgejo/Gitea Actions runner for ${toString inst.url})";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [
        "network-online.target"
        "nix-daemon.socket"
      ];
      requires = [ "nix-daemon.socket" ];
      path = [
        paths.package
        paths.nix
        paths.git
        paths.systemd
      ];
      environment = {
        # Job roots are built by the nix-daemon, so the service needs no write access to /nix.
        NIX_REMOTE = "daemon";
        HOME = stateDir name;
      };
      serviceConfig =
        (import ./hardening.nix)
        // {
          Type = "simple";
          ExecStartPre = "${paths.registerScript}";
          ExecStart = "${paths.package}/bin/nixjail-runner daemon --config ${paths.configFile}";
          Restart = "on-failure";
          RestartSec = "5s";
          # SIGTERM to the daemon alone, which stops taking jobs and lets running ones finish
          # for runner.shutdown_timeout; whatever is left of the unit (jobs included) is killed
          # with SIGKILL after TimeoutStopSec.
          KillMode = "mixed";
          TimeoutStopSec = "${inst.shutdownTimeout} 30s";
          # The daemon gets its cgroup subtree and runs in the "supervisor" leaf of it, so the
          # unit's cgroup can enable memory/pids/cpu for the job cgroups beside it (cgroup v2
          # forbids controllers on a cgroup that holds processes). Needs systemd >= 254.
          Delegate = true;
          DelegateSubgroup = "supervisor";
          StateDirectory = "nixjail-runner/${name}";
          StateDirectoryMode = "0700";
          CacheDirectory = "nixjail-runner/${name}";
          CacheDirectoryMode = "0711";
          RuntimeDirectory = "nixjail-runner/${name}";
          RuntimeDirectoryMode = "0711";
          WorkingDirectory = stateDir name;
          LimitNOFILE = 1048576;
          LoadCredential =
            (if inst.tokenFile != null then [ "${tokenCredential}:${toString inst.tokenFile}" ] else [ ])
            ++ map (
              credName: "${credentialId credName}:${toString inst.credentials.${credName}.file}"
            ) fileCredentials;
        }
        // optionalAttr customCacheDir { ReadWritePaths = [ inst.cache.dir ]; }
        # A disk quota puts each job on a volume of its own: the daemon attaches loop devices.
        // optionalAttr (inst.executor.disk != null) {
          PrivateDevices = false;
          DeviceAllow = (import ./hardening.nix).DeviceAllow ++ [
            "/dev/loop-control rw"
            "block-loop rw"
          ];
        }
        // optionalAttr (inst.environmentFiles != [ ]) { EnvironmentFile = inst.environmentFiles; };
    };

  # A custom cache.dir is created by tmpfiles (CacheDirectory= covers only the default one).
  tmpfilesRules =
    name: inst: if inst.cache.dir != cacheDir name then [ "d ${inst.cache.dir} 0711 root root -" ] else [ ];

  # Assertions for one instance, as NixOS's { assertion, message } records.
  assertionsFor =
    name: inst:
    let
      opt = "services.nixjail-runner.instances.${name}";
      credentialAssertions = concatMap (
        credName:
        let
          c = inst.credentials.${credName};
          copt = "${opt}.credentials.${credName}";
        in
        [
          {
            assertion = c.source != "file" || c.file != null;
            message = "${copt}: source = \"file\" needs `file` (the path of the token file)";
          }
          {
            assertion = c.source != "env" || (c.env != null && c.env != "");
            message = "${copt}: source = \"env\" needs `env` (the variable's name, set through environmentFiles)";
          }
          {
            assertion = c.hosts != [ ];
            message = "${copt}.hosts must name at least one host the credential is injected for";
          }
          {
            assertion = match ".*\\{token}.*" c.header != null;
            message = "${copt}.header must contain {token}, e.g. \"Authorization: Bearer {token}\"";
          }
        ]
      ) (attrNames inst.credentials);
    in
    [
      {
        assertion = inst.url != null && match "https?://.+" inst.url != null;
        message = "${opt}.url must be set to the forge's URL, e.g. \"https://forge.example.com\"";
      }
      {
        assertion = inst.capacity >= 1;
        message = "${opt}.capacity must be at least 1 (it is ${toString inst.capacity})";
      }
      {
        # ProtectHome= hides these from the service.
        assertion =
          match "/.*" inst.cache.dir != null
          && match "/(home|root|run/user)(/.*)?" inst.cache.dir == null;
        message = "${opt}.cache.dir must be an absolute path outside /home, /root and /run/user (the service runs with ProtectHome=); it is \"${inst.cache.dir}\"";
      }
      {
        assertion = inst.labels != [ ];
        message = "${opt}.labels must name at least one label that jobs select with runs-on";
      }
    ]
    ++ credentialAssertions;

  # Assertions across instances: each enabled instance needs its own metrics address.
  globalAssertions =
    instances:
    let
      addresses = filter (a: a != null && a != "") (
        map (n: instances.${n}.metrics.address) (attrNames instances)
      );
    in
    [
      {
        assertion = length addresses == length (unique addresses);
        message = "services.nixjail-runner.instances: two instances use the same metrics.address (${concatStringsSep ", " addresses})";
      }
    ];
  # The account the systemd backend's steps run as (executor/systemd: User=/Group= 1879049192,
  # the namespace jail's step id): systemd starts a unit only when the user database resolves
  # its User=/Group=. Declared when an instance may use that backend.
  stepAccountId = 1879049192;
  stepAccount =
    instances:
    let
      usesSystemd = filter (n: elem instances.${n}.executor.backend [
        "auto"
        "systemd"
      ]) (attrNames instances);
    in
    if usesSystemd == [ ] then
      {
        users = { };
        groups = { };
      }
    else
      {
        users.nixjail-step = {
          isSystemUser = true;
          uid = stepAccountId;
          group = "nixjail-step";
          description = "nixjail-runner job steps (systemd backend)";
        };
        groups.nixjail-step.gid = stepAccountId;
      };
in
{
  inherit
    recursiveUpdate
    stepAccount
    shellQuote
    unitName
    stateDir
    cacheDir
    runtimeDir
    runnerFile
    credentialsDir
    policyDocument
    settingsFor
    registerScript
    serviceFor
    tmpfilesRules
    assertionsFor
    globalAssertions
    ;
  hardening = import ./hardening.nix;
}
