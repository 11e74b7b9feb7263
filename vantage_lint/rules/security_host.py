"""VL402, VL406, VL407: what of the host a service can reach (the Docker socket, its
namespaces, its system directories)."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.model import Mount, Service
from vantage_lint.compose.nodes import ScalarNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import rule
from vantage_lint.rules._security import host_path, is_docker_socket


def _mount_text(mount: Mount) -> str:
    if isinstance(mount.node, ScalarNode):
        return mount.node.text.strip()
    mode = ", read_only: true" if mount.read_only else ""
    return f"type: {mount.type}, source: {mount.source}, target: {mount.target}{mode}"


@rule(
    code="VL402",
    name="docker-socket-mount",
    summary="The Docker socket is mounted into the service, which gives it root on the host.",
    severity=Severity.ERROR,
    hint="Remove the socket mount; if the service must talk to Docker, put a filtering socket proxy in between.",
)
def docker_socket_mount(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a bind mount of the Docker engine's socket: `/var/run/docker.sock`,
    `/run/docker.sock`, a rootless `$XDG_RUNTIME_DIR/docker.sock` (any host path ending in
    `docker.sock`), or the Windows pipe `\\\\.\\pipe\\docker_engine`. Short and long volume
    syntax are both read; a trailing slash, doubled slashes and `:ro` change nothing.
    Mounting a whole directory such as `/var/run` is VL407's.

    ## Why it matters
    The socket is the Docker API with no authentication. Whoever can write to it can start a
    privileged container with the host's `/` mounted, so code execution in this service is
    root on the host. `:ro` does not help: read-only applies to the socket file, not to the
    API requests sent through it.

    ## Example
    ```yaml
    services:
      proxy:
        image: traefik:v3.1
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock:ro
    ```

    ## Fix
    Remove the mount. Tools that only read container metadata (reverse proxies, dashboards)
    can go through a socket proxy that allows only the `GET` endpoints they use, such as
    `tecnativa/docker-socket-proxy`; Traefik can also read a file provider instead.
    """
    for mount in service.mounts:
        if not is_docker_socket(mount):
            continue
        read_only = " (read-only makes no difference: the API still accepts every request)" if mount.read_only else ""
        yield ctx.finding(
            mount,
            f'service "{service.name}" mounts the Docker socket ({_mount_text(mount)}): code running in it can '
            f"start a privileged container and take over the host{read_only}",
        )


# Namespace keys and what sharing the host's copy of that namespace gives away.
HOST_NAMESPACES: dict[str, str] = {
    "network_mode": "the host's network stack: it can bind any host port, reach services listening on "
                    "127.0.0.1 and sniff host traffic with NET_RAW",
    "pid": "the host's process table: it can see every process and its command line and environment, "
           "and signal or trace them",
    "ipc": "the host's shared memory and message queues",
    "userns_mode": "the host's user namespace: user namespace remapping is off, so root in the container "
                   "is root on the host",
    "uts": "the host's hostname, which it can change for the whole host",
}
NAMESPACE_NAMES = {"network_mode": "network", "pid": "PID", "ipc": "IPC", "userns_mode": "user", "uts": "UTS"}
MAX_JOIN_CHAIN = 10


def _join_target(service: Service, value: str) -> Service | None:
    """The service whose namespace ``service:x`` / ``container:x`` joins, if it is in the project."""
    kind, _, name = value.partition(":")
    name = name.strip()
    services = service.project.services
    if kind == "service":
        return services.get(name)
    if kind == "container":
        return next((s for s in services.values() if s.text("container_name") == name), None)
    return None


def _shared_host_namespace(service: Service, key: str) -> tuple[ScalarNode, list[str]] | None:
    """(the node that asks for it, the chain of services joined) when ``key`` ends at the host's namespace."""
    node = service.get(key)
    if not isinstance(node, ScalarNode):
        return None
    chain: list[str] = []
    current, current_node = service, node
    seen = {service.name}
    for _ in range(MAX_JOIN_CHAIN):
        value = current_node.text.strip()
        if value == "host":
            return node, chain
        target = _join_target(current, value)
        if target is None or target.name in seen:
            return None
        seen.add(target.name)
        chain.append(target.name)
        next_node = target.get(key)
        if not isinstance(next_node, ScalarNode):
            return None
        current, current_node = target, next_node
    return None


@rule(
    code="VL406",
    name="host-namespace",
    summary="The service shares a namespace with the host: network, PID, IPC, user or UTS.",
    severity=Severity.ERROR,
    hint="Remove the host namespace setting; publish ports or share a namespace with one other service instead.",
)
def host_namespace(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `network_mode: host`, `pid: host`, `ipc: host`, `userns_mode: host` and
    `uts: host`. The `service:<name>` and `container:<name>` forms join another container's
    namespace, not the host's, and pass, unless the service they join (followed through any
    chain of joins, by service name or `container_name`) is itself on the host's namespace:
    then the joining service is on the host's namespace too and is reported, naming the chain.
    `cgroup: host` is left out: it is the default on cgroup v1 hosts and exposes only the
    cgroup tree, not a way in. `network_mode: host` in a development or test stack (see
    "Presets and context") is a warning: the host is a laptop or a CI runner, whose local
    services are the developer's own; the other host namespaces stay errors everywhere.

    ## Why it matters
    Namespaces are what keep a container's view of the system its own. Sharing the host's
    gives an attacker with code execution in the container: with the network namespace, every
    service the host listens on locally (databases and admin ports bound to `127.0.0.1`, cloud
    metadata endpoints) and the host's traffic; with the PID namespace, every host process,
    including the environment (secrets) and memory of processes of the same user; with the
    user namespace, root that is the host's root.

    ## Example
    ```yaml
    services:
      agent:
        image: myorg/agent:1.0
        network_mode: host
        pid: host
    ```

    ## Fix
    Remove the setting. Publish the ports the service serves (`ports:`), or, when two
    containers must share a namespace, join the other service's (`network_mode: service:vpn`).
    """
    for key, gain in HOST_NAMESPACES.items():
        found = _shared_host_namespace(service, key)
        if found is None:
            continue
        node, chain = found
        if chain:
            via = " → ".join(f'"{name}"' for name in chain)
            message = (f'service "{service.name}" joins the {NAMESPACE_NAMES[key]} namespace of service {via} '
                       f"({key}: {node.text.strip()}), which is the host's: code running in it gets {gain}")
        else:
            message = f'service "{service.name}" uses {key}: host: code running in it gets {gain}'
        if key == "network_mode" and ctx.deploy_context == "development":
            # A laptop or a CI runner: its local services are the developer's own.
            yield ctx.finding(node, message + " (a development or test stack: a warning here, an error where it is "
                              "deployed)", severity=Severity.WARNING)
        else:
            yield ctx.finding(node, message)


# Host directories whose contents control the host; "/run" is where "/var/run" points.
SENSITIVE_PATHS: dict[str, str] = {
    "/": "the whole host filesystem",
    "/etc": "the host's configuration: users, sudoers, cron, SSH keys of the host",
    "/root": "root's home on the host (SSH keys, shell history, credentials)",
    "/boot": "the host's kernel and boot loader",
    "/proc": "the host's processes and kernel settings",
    "/sys": "the host's kernel and device settings",
    "/dev": "every host device, disks included",
    "/var/run": "the host's runtime sockets, the Docker socket among them",
    "/run": "the host's runtime sockets, the Docker socket among them",
    "/var/lib/docker": "every container's files, images and volumes",
}


@rule(
    code="VL407",
    name="sensitive-host-mount",
    summary="A host system directory is bind-mounted into the service.",
    severity=Severity.ERROR,
    hint="Mount only the file or subdirectory the service needs, read-only (:ro).",
)
def sensitive_host_mount(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports bind mounts of `/`, `/etc`, `/root`, `/boot`, `/proc`, `/sys`, `/dev`, `/var/run`
    (and `/run`, the directory it points to), and `/var/lib/docker`: an error when the mount is
    writable, a warning when it is read-only (`:ro`, `read_only: true`). Short and long
    syntax are read; trailing slashes, doubled slashes and `.` segments are ignored. Only
    these directories themselves are reported: a single file or subdirectory such as
    `/etc/localtime:/etc/localtime:ro` or `/sys/fs/cgroup:ro` is a deliberate, narrow mount.
    The Docker socket file is VL402's.

    ## Why it matters
    A writable mount of one of these directories is a way out of the container for any
    attacker who gets code execution in it: write `/etc/cron.d` or root's `authorized_keys`,
    replace the kernel in `/boot`, write `/proc/sys/kernel/core_pattern` to run a command on
    the host, open raw disks under `/dev`, use the Docker socket under `/var/run`, or edit
    other containers' files in `/var/lib/docker`. Read-only still leaks: `/etc/shadow`,
    host keys, every container's environment and volumes.

    ## Example
    ```yaml
    services:
      backup:
        image: myorg/backup:2.0
        volumes:
          - /:/host
    ```

    ## Fix
    Mount only what the service reads (one file or subdirectory) and add `:ro`. Tools that
    must see the whole host (node exporters, log shippers) should mount it read-only.
    """
    for mount in service.mounts:
        path = host_path(mount)
        if path is None or path not in SENSITIVE_PATHS or is_docker_socket(mount):
            continue
        what = SENSITIVE_PATHS[path]
        if mount.read_only:
            finding = ctx.finding(
                mount,
                f'service "{service.name}" mounts host directory {path} read-only ({_mount_text(mount)}): '
                f"code running in it can read {what}",
            )
            finding.severity = Severity.WARNING
            finding.explicit_severity = True
        else:
            finding = ctx.finding(
                mount,
                f'service "{service.name}" mounts host directory {path} writable ({_mount_text(mount)}): '
                f"code running in it can change {what} and take over the host",
            )
        yield finding
