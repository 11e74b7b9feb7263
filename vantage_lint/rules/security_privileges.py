"""VL401, VL403, VL404, VL405, VL408, VL409: what a container may do to the kernel it shares."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode, SeqNode
from vantage_lint.context import RuleContext
from vantage_lint.edits import (
    append_seq_item_edit,
    guard_fix,
    insert_key_edit,
    is_flow,
    quote,
    replace_scalar_edit,
    source_of,
)
from vantage_lint.findings import Applicability, Edit, Finding, Fix, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules._security import capability_items, is_true, parse_bool_true, security_opts


@rule(
    code="VL401",
    name="privileged-container",
    summary="The service runs privileged: it has every capability and every host device.",
    severity=Severity.ERROR,
    hint="Remove privileged: true and add only the capabilities (cap_add) or devices the service needs.",
)
def privileged_container(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `privileged: true`, in every spelling Compose reads as true: the YAML boolean,
    the string `"true"` (any case), and `yes`/`y`/`on`, which Compose still accepts with a
    warning. A value taken from a variable (`privileged: ${PRIVILEGED:-true}`) counts with
    the value it resolves to.

    ## Why it matters
    A privileged container gets every Linux capability, every device under `/dev`, no
    seccomp or AppArmor/SELinux confinement and a writable `/sys`. Whoever gets code
    execution in it (an RCE in the app, a malicious dependency) can mount the host's disks,
    load kernel modules or write a cgroup release agent: root on the host, and from there
    every other container and secret on it.

    ## Example
    ```yaml
    services:
      monitor:
        image: myorg/monitor:2.1
        privileged: true
    ```

    ## Fix
    Remove `privileged: true`. Grant only what the service needs: one capability with
    `cap_add`, one device with `devices:`.
    """
    node = service.get("privileged")
    if not is_true(node):
        return
    assert isinstance(node, ScalarNode)
    written = node.raw if node.raw != node.text else node.text
    yield ctx.finding(
        node,
        f'service "{service.name}" runs privileged (privileged: {written}): it has every capability and host '
        "device and no seccomp/AppArmor confinement, so code running in it can take over the host",
    )


# What each capability gives whoever runs code in the container.
DANGEROUS_CAPABILITIES: dict[str, str] = {
    "ALL": "every capability, as good as privileged: mount filesystems, load kernel modules, reach raw devices",
    "SYS_ADMIN": "mount filesystems and write cgroup release agents, the classic container escape",
    "SYS_MODULE": "load kernel modules into the host's kernel",
    "SYS_RAWIO": "raw access to I/O ports and host memory devices",
    "SYS_PTRACE": "trace and inject code into other processes (the host's too with pid: host)",
    "DAC_READ_SEARCH": "open host files by handle with open_by_handle_at and read any file on the host "
                       "(the 'shocker' escape)",
    "NET_ADMIN": "reconfigure interfaces, routes and firewall rules and intercept traffic "
                 "(the host's with network_mode: host)",
    "SYS_BOOT": "reboot the host or load a new kernel with kexec",
    "SYS_TIME": "set the host's clock, which no namespace isolates (breaks TLS, tokens and logs)",
    "BPF": "load eBPF programs into the host's kernel and read kernel memory",
    "PERFMON": "attach tracing to every process of the host through perf and eBPF",
    "MAC_ADMIN": "change the host's AppArmor/SELinux policy",
    "MAC_OVERRIDE": "bypass the host's AppArmor/SELinux policy",
    "SYSLOG": "read and clear the kernel log, which leaks kernel addresses",
}


@rule(
    code="VL403",
    name="dangerous-capability",
    summary="cap_add grants a capability that lets the container break out to the host or tamper with it.",
    severity=Severity.ERROR,
    hint="Remove the capability from cap_add, or replace it with the narrower one the service needs.",
)
def dangerous_capability(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports each `cap_add` entry that names `ALL` or a capability that reaches past the
    container: `SYS_ADMIN`, `SYS_MODULE`, `SYS_RAWIO`, `SYS_PTRACE`, `DAC_READ_SEARCH`,
    `NET_ADMIN`, `SYS_BOOT`, `SYS_TIME`, `BPF`, `PERFMON`, `MAC_ADMIN`, `MAC_OVERRIDE` and
    `SYSLOG`. Names are read as Docker reads them: in any case, with or without the `CAP_`
    prefix (`cap_sys_admin`, `CAP_SYS_ADMIN`, `sys_admin`). `CAP_ALL` is not a name Docker
    accepts (it refuses to create the container), so it is not read as `ALL`.

    ## Why it matters
    Each of these hands the attacker who gets code execution in the container a lever on the
    host: `SYS_ADMIN` mounts filesystems and is the usual container escape, `SYS_MODULE` loads
    code into the host's kernel, `DAC_READ_SEARCH` reads any host file through
    `open_by_handle_at`, `SYS_PTRACE` injects code into other processes, `NET_ADMIN`
    rewrites routing and firewall rules to intercept traffic, `SYS_TIME` moves the host's
    clock. `ALL` grants every one of them.

    ## Example
    ```yaml
    services:
      vpn:
        image: myorg/vpn:1.3
        cap_add: [SYS_ADMIN, cap_net_admin]
    ```

    ## Fix
    Remove the capability. If the service needs one operation, grant the narrowest
    capability for it (for example `NET_BIND_SERVICE` to bind ports below 1024) and keep
    `cap_drop: [ALL]` for the rest.
    """
    for name, node in capability_items(service, "cap_add"):
        gain = DANGEROUS_CAPABILITIES.get(name)
        if gain is None:
            continue
        head = f'service "{service.name}" adds ' + ("ALL capabilities" if name == "ALL" else f"capability {name}")
        verb = "gets" if name == "ALL" else "can"
        yield ctx.finding(node, f"{head} (cap_add: {node.text.strip()}): code running in it {verb} {gain}")


@rule(
    code="VL404",
    name="capabilities-not-dropped",
    summary="The service keeps Docker's default capabilities instead of dropping them all.",
    severity=Severity.INFO,
    hint="Add cap_drop: [ALL] and cap_add back only the capabilities the service needs.",
    production=True,
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def capabilities_not_dropped(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service whose `cap_drop` does not contain `ALL` (in any case). Privileged
    services are left to VL401: Docker ignores `cap_drop` for them.

    ## Why it matters
    Without `cap_drop: [ALL]` a container keeps Docker's 14 default capabilities, among
    them `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `SETUID`, `SETGID`, `NET_RAW` and `MKNOD`. An
    attacker who runs code in it can then ignore file permissions on everything mounted,
    switch to any user, forge packets on the network (ARP/DNS spoofing of neighbouring
    containers) and create device nodes. Most services need none of these.

    ## Example
    ```yaml
    services:
      api:
        image: myorg/api:1.4.2
    ```

    ## Fix
    Add `cap_drop: [ALL]` and give back what the process needs with `cap_add` (for example
    `NET_BIND_SERVICE`, or `CHOWN`, `SETUID` and `SETGID` for images whose entrypoint drops
    to another user, as the official redis and postgres images do).
    """
    if is_true(service.get("privileged")):
        return
    dropped = [name for name, _node in capability_items(service, "cap_drop")]
    if "ALL" in dropped:
        return
    node = service.get("cap_drop")
    if node is None:
        message = (f'service "{service.name}" does not drop capabilities (no cap_drop: [ALL]): '
                   "it keeps Docker's 14 defaults")
    else:
        listed = ", ".join(dropped) or "nothing"
        message = (f'service "{service.name}" drops only {listed} (cap_drop without ALL): '
                   "it keeps the rest of Docker's default capabilities")
    yield ctx.finding(service.span_of("cap_drop"), message)


NO_NEW_PRIVILEGES = "no-new-privileges:true"


@rule(
    code="VL405",
    name="no-new-privileges-unset",
    summary="The service does not set no-new-privileges, so setuid programs can raise its privileges.",
    severity=Severity.INFO,
    hint="Add security_opt: [no-new-privileges:true].",
    fix=Applicability.UNSAFE,
    production=True,
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def no_new_privileges_unset(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service whose `security_opt` does not turn `no-new-privileges` on. Every
    spelling the daemon accepts counts: `no-new-privileges:true`, `no-new-privileges=true`,
    the bare `no-new-privileges`, and the true values of Go's `ParseBool` (`1`, `t`, `TRUE`,
    `True`). An explicit `no-new-privileges:false` is reported at that entry.

    ## Why it matters
    Without it, a process in the container can gain privileges through setuid and setgid
    binaries and file capabilities (`sudo`, `su`, `ping`, a planted setuid shell): an
    attacker who gets a shell as an unprivileged user can become root inside the container,
    and from there use everything root is allowed (mounted files, capabilities, kernel bugs
    reachable only as root). With the flag set the kernel refuses those transitions.

    ## Example
    ```yaml
    services:
      api:
        image: myorg/api:1.4.2
    ```

    ## Fix
    Add `security_opt: [no-new-privileges:true]`. The fix inserts it (a `security_opt:` key
    in the file's own indentation, or a new entry in an existing list); it is unsafe
    because an image whose entrypoint relies on `sudo` or another setuid program stops
    working. The daemon-wide `"no-new-privileges": true` in `daemon.json` is not visible
    from a Compose file.
    """
    node = service.get("security_opt")
    for opt in security_opts(service):
        if opt.key != "no-new-privileges":
            continue
        if parse_bool_true(opt.value):
            return
        fix, note = None, ""
        source = source_of(service.project, opt.node)
        edit = replace_scalar_edit(source, opt.node, NO_NEW_PRIVILEGES) if source is not None else None
        if edit is not None:
            fix, note = guard_fix(service.project, opt.node,
                                  Fix("Set no-new-privileges:true", (edit,), Applicability.UNSAFE))
        message = (f'service "{service.name}" turns no-new-privileges off ({opt.node.text.strip()}): '
                   "setuid programs can raise its privileges")
        yield ctx.finding(opt.node, message + (f" ({note})" if note else ""), fix=fix)
        return
    if node is None:
        message = f'service "{service.name}" does not set security_opt: [no-new-privileges:true]'
    else:
        message = f'service "{service.name}" has security_opt without no-new-privileges:true'
    fix, note = _no_new_privileges_fix(service)
    yield ctx.finding(service.span_of("security_opt"), message + (f" ({note})" if note else ""), fix=fix)


def _no_new_privileges_fix(service: Service) -> tuple[Fix | None, str]:
    """Insert the option where the service's security_opt (or, without one, the service) is written,
    with the reason when the fix is withheld.

    Editing a mapping or list that other services share through an anchor would change them
    too, so such a fix is kept only when every one of them lacks the option as well; one written
    outside the project's Compose files (an included or extended file) is withheld.
    """
    node = service.get("security_opt")
    project = service.project
    target = service.node if node is None else node
    source = source_of(project, target)
    if source is None:
        return None, ""
    edit: Edit | None = None
    if node is None:
        item = quote(source, NO_NEW_PRIVILEGES) if is_flow(source, service.node) else NO_NEW_PRIVILEGES
        edit = insert_key_edit(source, service.node, "security_opt", [item])
    elif isinstance(node, SeqNode):
        # In a flow list a plain "a:b" is not read the same by every YAML parser: quote it there.
        item = quote(source, NO_NEW_PRIVILEGES) if is_flow(source, node) else NO_NEW_PRIVILEGES
        edit = append_seq_item_edit(source, node, item)
    if edit is None:
        return None, ""
    fix = Fix("Add security_opt: [no-new-privileges:true]", (edit,), Applicability.UNSAFE)
    return guard_fix(project, target, fix, lambda name: _lacks_no_new_privileges(project.services[name]))


def _lacks_no_new_privileges(service: Service) -> bool:
    return not any(o.key == "no-new-privileges" and parse_bool_true(o.value) for o in security_opts(service))


# (key, value) pairs of security_opt that switch a confinement off, and what that gives away.
DISABLED_PROFILES: dict[tuple[str, str], str] = {
    ("seccomp", "unconfined"): "every system call, including the ones Docker's default profile blocks "
                               "because they lead out of the container (mount, keyctl, bpf, unshare)",
    ("apparmor", "unconfined"): "no AppArmor profile, so writes to /proc and /sys and mounts are no longer denied",
    ("label", "disable"): "no SELinux labelling, so the container's processes are not kept away from host files",
    ("label", "type:spc_t"): "the SELinux super-privileged container type, which is not confined",
    ("label", "type:unconfined_t"): "the unconfined SELinux type",
    ("systempaths", "unconfined"): "the /proc and /sys paths Docker masks or makes read-only are exposed and writable",
}


@rule(
    code="VL408",
    name="security-profile-disabled",
    summary="security_opt switches off seccomp, AppArmor or SELinux confinement.",
    severity=Severity.ERROR,
    hint="Remove the unconfined option; if a system call or path is needed, use a custom profile that allows only it.",
)
def security_profile_disabled(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `security_opt` entries that turn a kernel confinement off: `seccomp:unconfined`,
    `apparmor:unconfined`, `label:disable`, the unconfined SELinux types `label:type:spc_t`
    and `label:type:unconfined_t`, and `systempaths=unconfined`. Both separators the daemon
    accepts are read (`key:value` and `key=value`), in any case.

    ## Why it matters
    Docker's default seccomp profile blocks about 50 system calls that have been used to
    escape containers (`mount`, `unshare`, `keyctl`, `bpf`, `ptrace` on old kernels), and the
    default AppArmor/SELinux policies deny writes to `/proc`, `/sys` and host files. With
    them off, a kernel bug or a leftover capability that the profile would have stopped is
    enough for an attacker with code execution in the container to reach the host.

    ## Example
    ```yaml
    services:
      builder:
        image: myorg/builder:3.0
        security_opt:
          - seccomp=unconfined
    ```

    ## Fix
    Remove the option. If one blocked system call is really needed, write a seccomp profile
    that allows just it (`seccomp=./profile.json`).
    """
    for opt in security_opts(service):
        gain = DISABLED_PROFILES.get((opt.key, opt.value.lower()))
        if gain is None:
            continue
        yield ctx.finding(
            opt.node,
            f'service "{service.name}" disables its confinement ({opt.node.text.strip()}): '
            f"code running in it gets {gain}",
        )


@rule(
    code="VL409",
    name="writable-root-filesystem",
    summary="The container's root filesystem is writable (read_only: true is not set).",
    severity=Severity.INFO,
    hint="Set read_only: true and mount a tmpfs or volume where the service must write.",
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def writable_root_filesystem(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service without `read_only: true` (or `"true"`, `yes`, `on`), pointing at
    `read_only` when it is set to false and at the service otherwise.

    ## Why it matters
    With a writable root filesystem an attacker who gets code execution can drop tools and
    payloads, replace the application's own code or configuration, or plant a backdoor that
    runs again after a restart of the process. A read-only root keeps the image as built; only
    the paths you mount are writable.

    ## Example
    ```yaml
    services:
      api:
        image: myorg/api:1.4.2
    ```

    ## Fix
    Set `read_only: true` and give the service a `tmpfs:` (for `/tmp`, `/run`) or a volume for
    each path it really writes (Redis: its data directory, `/data`).
    """
    node = service.get("read_only")
    if is_true(node):
        return
    if isinstance(node, ScalarNode):
        message = f'service "{service.name}" sets read_only: {node.text}: its root filesystem is writable'
        yield ctx.finding(node, message)
        return
    yield ctx.finding(service.span_of("read_only"),
                      f'service "{service.name}" has a writable root filesystem (no read_only: true)')
