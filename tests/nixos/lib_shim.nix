# The few nixpkgs `lib` functions nixos-module/options.nix and default.nix use, in builtins only, plus
# `evalOptions`: fills defaults into a plain attrset of values and checks types, names and
# required options. Much simpler than lib.evalModules (no priorities, no merging of several
# definitions, no mkIf/mkDefault in values): a value given here is the only definition.
let
  inherit (builtins)
    attrNames
    concatStringsSep
    elem
    filter
    hasAttr
    isAttrs
    isBool
    isFunction
    isInt
    isList
    isPath
    isString
    mapAttrs
    substring
    typeOf
    ;

  isOption = v: isAttrs v && (v._type or null) == "option";

  fail = path: msg: throw "option '${path}': ${msg}";

  # A type: { name, check (shallow), eval = path: value -> checked value }.
  simple = name: check: {
    inherit name check;
    eval = path: v: if check v then v else fail path "${typeOf v} is not a valid ${name}";
  };

  types = rec {
    bool = simple "boolean" isBool;
    str = simple "string" isString;
    int = simple "integer" isInt;
    path = simple "path" (v: isPath v || (isString v && substring 0 1 v == "/"));
    package = simple "package" (v: isAttrs v || isString v);
    attrs = simple "attribute set" isAttrs;
    anything = simple "anything" (_: true);
    enum =
      values:
      simple "one of ${concatStringsSep ", " (map toString values)}" (v: elem v values);
    nullOr = t: {
      name = "null or ${t.name}";
      check = v: v == null || t.check v;
      eval = path: v: if v == null then null else t.eval path v;
    };
    either = a: b: {
      name = "${a.name} or ${b.name}";
      check = v: a.check v || b.check v;
      eval =
        path: v:
        if a.check v then
          a.eval path v
        else if b.check v then
          b.eval path v
        else
          fail path "${typeOf v} is neither ${a.name} nor ${b.name}";
    };
    listOf = t: {
      name = "list of ${t.name}";
      check = isList;
      eval = path: v: if isList v then map (x: t.eval "${path}.*" x) v else fail path "not a list";
    };
    attrsOf = t: {
      name = "attribute set of ${t.name}";
      subOptions = t.subOptions or null;
      check = isAttrs;
      eval =
        path: v: if isAttrs v then mapAttrs (n: x: t.eval "${path}.${n}" x) v else fail path "not an attribute set";
    };
    submodule = m: {
      name = "submodule";
      subOptions = (if isFunction m then m { name = "<name>"; config = { }; } else m).options;
      check = isAttrs;
      eval =
        path: v:
        let
          parts = builtins.split "\\." path;
          name = builtins.elemAt parts (builtins.length parts - 1);
          module = if isFunction m then m { inherit name config; } else m;
          config = evalOptions path module.options v;
        in
        if isAttrs v then config else fail path "not an attribute set";
    };
  };

  # options: nested attrsets whose leaves are mkOption results; values: the user's definitions.
  evalOptions =
    path: options: values:
    let
      unknown = filter (n: !(hasAttr n options)) (attrNames values);
      one =
        n: o:
        let
          p = if path == "" then n else "${path}.${n}";
        in
        if isOption o then
          if hasAttr n values then
            o.type.eval p values.${n}
          else if hasAttr "default" o then
            o.type.eval p o.default
          else
            fail p "used but not defined (it has no default)"
        else
          evalOptions p o (values.${n} or { });
    in
    if unknown != [ ] then
      fail path "unknown option(s) ${concatStringsSep ", " unknown}"
    else
      mapAttrs one options;

  mkOption = attrs: attrs // { _type = "option"; };
in
{
  inherit types mkOption evalOptions;
  mkEnableOption =
    what:
    mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable ${what}.";
    };
  # For nixos-module/default.nix's glue: mkIf stays a marker the test unwraps.
  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  nameValuePair = name: value: { inherit name value; };
  mapAttrs' = f: set: builtins.listToAttrs (map (n: f n set.${n}) (attrNames set));
  mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
  filterAttrs =
    pred: set:
    builtins.listToAttrs (
      map (n: {
        name = n;
        value = set.${n};
      }) (filter (n: pred n set.${n}) (attrNames set))
    );
  concatLists = builtins.concatLists;
  literalExpression = text: {
    _type = "literalExpression";
    inherit text;
  };
  # Every option, submodules' included (as path "<name>"), for the tests' description check.
  allOptions =
    let
      walk =
        path: options:
        builtins.concatMap (
          n:
          let
            o = options.${n};
            p = if path == "" then n else "${path}.${n}";
          in
          if isOption o then
            [
              {
                path = p;
                option = o;
              }
            ]
            ++ (if (o.type.subOptions or null) != null then walk "${p}.<name>" o.type.subOptions else [ ])
          else
            walk p o
        ) (attrNames options);
    in
    walk "";
}
