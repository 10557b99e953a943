"""
Training across machines: the learner on one host, a sim and an actor on another.

The two hosts are network namespaces that this test makes (root needed), joined by a veth pair
whose addresses, a private /30, exist only inside them: neither namespace has a route to
anywhere else, so no packet leaves this machine's own namespaces. The learner runs in one, the
robot (sim + actor) in the other, each started with ``ip netns exec``, with the discovery
settings of the README's "Several machines" section:

- ``static_peers``: ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` plus ``ROS_STATIC_PEERS`` = the
  other host's address (what works where multicast does not pass);
- ``multicast``: ``ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET`` (ROS's default: multicast
  discovery on the local network).

A probe on the robot host watches /diagnostics: the learner's (from across the link) counts the
robot's transitions, its policy version rises, and the actor acts with those policies. The
veth's byte counters show the traffic crossed the link. Every process and both namespaces are
removed at the end, however the test ends; namespaces left by a test process that was killed
outright are removed by the next run.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

pytest.importorskip('rclpy', reason='needs rclpy (the ros-* wheels or a ROS 2 install)')

from t3d_ros.graph.bringup import train_graph  # noqa: E402
from t3d_ros.nodes.learner_node import DIAGNOSTICS_PERIOD  # noqa: E402

STARTUP = 180.0
"""Seconds for the three processes to start and discover each other on a loaded machine."""
PROGRESS = 90.0
"""Seconds for a counter to move on by the amounts the test asks for."""
CUT_SECONDS = 6.0
"""How long the test takes the link down."""
CUTS = 3
"""Cuts at most, until one finds the actor free to step (see the test)."""
LINK_UP_TIMEOUT = 10.0
"""Seconds for the veth pair to come up (it takes up to about one)."""
STOP_GRACE = 10.0
"""Seconds a node gets after SIGINT before it is killed (the test does not judge exit codes)."""

SUBNET = '10.213.37.{}/30'
"""The link's addresses, only ever configured inside the test's two namespaces."""
LEARNER_HOST, ROBOT_HOST = '1', '2'
PREFIX = 't3d-hosts-'
"""Namespace names: PREFIX + <pid of the test process> + '-' + <host>."""
LINK = 'veth0'
"""The veth end's name inside each namespace (each namespace has its own names)."""

DISCOVERY = {
    'static_peers': lambda peer: {'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
                                  'ROS_STATIC_PEERS': peer},
    'multicast': lambda peer: {'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SUBNET'},
}
"""Environment per discovery setting, given the other host's address."""

PROBE = textwrap.dedent('''
    """Print the latest /diagnostics values and /t3d endpoints as JSON, twice a second."""
    import json
    import time

    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from t3d_ros.graph.monitor import DiagnosticsMonitor

    rclpy.init()
    monitor = DiagnosticsMonitor('link_probe')
    executor = SingleThreadedExecutor()
    executor.add_node(monitor)
    shown = time.monotonic()
    try:
        while rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
            if time.monotonic() - shown > 0.5:
                graph = {topic: {'publishers': sorted(info.node_namespace.rstrip('/') + '/'
                                                      + info.node_name for info in
                                                      monitor.get_publishers_info_by_topic(topic)),
                                 'subscribers': sorted(info.node_namespace.rstrip('/') + '/'
                                                       + info.node_name for info in
                                                       monitor.get_subscriptions_info_by_topic(topic))}
                         for topic, _ in monitor.get_topic_names_and_types()
                         if topic.startswith('/t3d/')}
                print(json.dumps({'diagnostics': monitor.latest, 'graph': graph}), flush=True)
                shown = time.monotonic()
    except KeyboardInterrupt:
        pass
''')


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(['ip', *args], capture_output=True, text=True, check=check,
                          timeout=30)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip('netns', 'list').stdout.splitlines() if line.strip()]


def remove_namespace(name: str) -> None:
    """Kill every process inside ``name`` (only this test's), then delete it and its veth end."""
    for _ in range(3):
        pids = [int(p) for p in ip('netns', 'pids', name, check=False).stdout.split()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
    ip('netns', 'del', name, check=False)


def remove_stale_namespaces() -> None:
    """Remove namespaces that a killed test process of this module left behind."""
    for name in namespaces():
        match = re.fullmatch(re.escape(PREFIX) + r'(\d+)-\w+', name)
        if match and not pid_alive(int(match.group(1))):
            remove_namespace(name)


class Hosts:
    """Two namespaces joined by a veth pair: ``learner`` (.1) and ``robot`` (.2)."""

    def __init__(self):
        tag = f'{PREFIX}{os.getpid()}-'
        self.names = {'learner': tag + 'learner', 'robot': tag + 'robot'}
        self.address = {'learner': SUBNET.format(LEARNER_HOST).split('/')[0],
                        'robot': SUBNET.format(ROBOT_HOST).split('/')[0]}

    def create(self) -> None:
        learner, robot = self.names['learner'], self.names['robot']
        for host, name in self.names.items():
            ip('netns', 'add', name)
            ip('-n', name, 'link', 'set', 'lo', 'up')
        ip('link', 'add', 'name', LINK, 'netns', learner, 'type', 'veth',
           'peer', 'name', LINK, 'netns', robot)
        for host, name in self.names.items():
            number = LEARNER_HOST if host == 'learner' else ROBOT_HOST
            ip('-n', name, 'addr', 'add', SUBNET.format(number), 'dev', LINK)
            ip('-n', name, 'link', 'set', LINK, 'up')
        self.wait_until_running()

    def wait_until_running(self, timeout: float = LINK_UP_TIMEOUT) -> None:
        """
        Wait until both ends of the link are running (operstate UP, the flag IFF_RUNNING).

        A DDS participant made before its host's link runs never uses the link: Fast DDS takes
        the addresses of running interfaces as its locators when it starts, so such a node
        announced 127.0.0.1 alone and nothing across the link could reach it. The kernel
        reports a new veth pair running up to about a second after ``link set up`` (seen with
        getifaddrs: 0.45-1.05 s), and until this wait every run here failed, both discovery
        settings: no endpoint of the other host was ever matched (on a loaded machine before,
        only some were, whichever nodes started in time).
        """
        deadline = time.monotonic() + timeout
        while True:
            states = {host: json.loads(ip('-n', name, '-j', 'link', 'show', LINK).stdout)[0]
                      ['operstate'] for host, name in self.names.items()}
            if all(state == 'UP' for state in states.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f'the link is not up after {timeout} s: {states}')
            time.sleep(0.05)

    def remove(self) -> None:
        for name in self.names.values():
            if name in namespaces():
                remove_namespace(name)

    def link_bytes(self, host: str) -> tuple[int, int]:
        """Return (received, sent) bytes of ``host``'s end of the link."""
        stats = json.loads(ip('-n', self.names[host], '-s', '-j', 'link', 'show', LINK).stdout)
        counters = stats[0]['stats64']
        return counters['rx']['bytes'], counters['tx']['bytes']

    def peer(self, host: str) -> str:
        return self.address['robot' if host == 'learner' else 'learner']


@pytest.fixture
def hosts():
    if not sys.platform.startswith('linux'):
        pytest.skip('network namespaces are a Linux feature')
    if os.geteuid() != 0:
        pytest.skip('making network namespaces needs root (ip netns add)')
    if shutil.which('ip') is None:
        pytest.skip('the ip command (iproute2) is not installed')
    remove_stale_namespaces()
    made = Hosts()
    previous = signal.signal(signal.SIGTERM, _terminate)  # a killed run still cleans up
    try:
        try:
            made.create()
        except subprocess.CalledProcessError as error:
            made.remove()
            pytest.skip(f'cannot make network namespaces and a veth pair here: '
                        f'{" ".join(error.cmd)}: {error.stderr.strip()}')
        yield made
    finally:
        made.remove()
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum, frame):
    raise SystemExit(f'terminated by signal {signum}')


class Processes:
    """The node and probe processes, each in a host's namespace; all stopped at the end."""

    def __init__(self, hosts: Hosts, log_dir, discovery: str):
        self.hosts, self.log_dir, self.discovery = hosts, log_dir, discovery
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.stop_seconds: dict[str, float] = {}

    def env(self, host: str) -> dict:
        env = {name: value for name, value in os.environ.items()
               if name not in ('ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_STATIC_PEERS')}
        # UDP only, as between two machines: Fast DDS's shared memory would otherwise join
        # processes of every namespace of this one machine (a participant of another session
        # on the same domain was seen that way).
        env.update(DISCOVERY[self.discovery](self.hosts.peer(host)), PYTHONUNBUFFERED='1',
                   FASTDDS_BUILTIN_TRANSPORTS='UDPv4')
        return env

    def start(self, label: str, host: str, command: list[str], **popen) -> subprocess.Popen:
        popen.setdefault('stdout', open(self.log_dir / f'{label}.log', 'ab'))
        process = subprocess.Popen(['ip', 'netns', 'exec', self.hosts.names[host], *command],
                                   stderr=subprocess.STDOUT, env=self.env(host),
                                   start_new_session=True, **popen)
        self.started.append((label, process))
        return process

    def log(self, label: str, lines: int = 30) -> str:
        path = self.log_dir / f'{label}.log'
        text = path.read_text(errors='replace') if path.exists() else ''
        return '\n'.join(text.splitlines()[-lines:])

    def logs(self, lines: int = 15) -> str:
        """Return the last ``lines`` of every process's log, and each host's addresses, routes."""
        text = [f'--- {label} ---\n{self.log(label, lines)}' for label, _ in self.started]
        for host, name in self.hosts.names.items():
            text.append(f'--- {host} host ---\n' + ip('-n', name, 'addr', check=False).stdout
                        + ip('-n', name, 'route', check=False).stdout)
        return '\n'.join(text)

    @staticmethod
    def seen(probes: dict) -> dict:
        """Return what each host's probe saw: the latest diagnostics, the /t3d endpoints."""
        return {host: {'graph': probe.graph, 'diagnostics': probe.latest}
                for host, probe in probes.items()}

    def exited(self) -> list[tuple[str, int]]:
        return [(label, p.returncode) for label, p in self.started if p.poll() is not None]

    def stop(self) -> None:
        """SIGINT to each process, as Ctrl-C would; SIGKILL to what is left after the grace."""
        start = time.monotonic()
        for _, process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for label, process in self.started:
            try:
                process.wait(timeout=max(0.0, start + STOP_GRACE - time.monotonic()))
                self.stop_seconds[label] = round(time.monotonic() - start, 2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
                self.stop_seconds[label] = float('inf')
            if process.stdout is not None:
                process.stdout.close()


class Probe:
    """The latest diagnostics the probe process printed, read by a thread."""

    def __init__(self, process: subprocess.Popen):
        self.process, self.latest, self.graph = process, {}, {}
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                seen = json.loads(line)
                self.latest, self.graph = seen['diagnostics'], seen['graph']
            except (ValueError, TypeError, KeyError):
                pass  # a log line of the probe's node

    def value(self, status: str, key: str) -> float:
        try:
            return float(self.latest[status][key])
        except (KeyError, ValueError):
            return float('nan')


@pytest.mark.parametrize('discovery', sorted(DISCOVERY))
@pytest.mark.slow
def test_training_across_two_hosts(hosts, tmp_path, discovery):
    # No rate limiting (max_ahead out of reach): a throttled actor would not step while the
    # link is down, and the cut below needs it to.
    graph = train_graph('pendulum', 1, ['test_fast.yaml'], seed=5, run_dir=tmp_path / 'run',
                        overrides={'learner': {'max_ahead': 10**9}}, robots_per_process=1)
    log_dir = tmp_path / 'logs'
    log_dir.mkdir()
    processes = Processes(hosts, log_dir, discovery)
    began = time.monotonic()
    try:
        for spec in graph:
            host = 'learner' if spec.executable == 'learner_node' else 'robot'
            label = f'{spec.namespace.strip("/") or host}_{spec.name}'
            processes.start(label, host, spec.command(log_dir / 'params', sys.executable))
        # One probe per host: the robot's sees the learner across the link, the learner's
        # sees what the learner counts even while the link is down.
        probes = {host: Probe(processes.start(f'probe_{host}', host,
                                              [sys.executable, '-c', PROBE],
                                              stdout=subprocess.PIPE, text=True))
                  for host in ('robot', 'learner')}
        learner = lambda key, host='robot': probes[host].value('t3d/learner', key)  # noqa: E731
        actor = lambda key: probes['robot'].value('t3d/actor/robot_0', key)  # noqa: E731

        def wait_until(condition, timeout: float, what: str) -> None:
            deadline = time.monotonic() + timeout
            while not condition():
                if processes.exited():
                    label, code = processes.exited()[0]
                    pytest.fail(f'{label} exited with {code} while waiting for {what}:\n'
                                f'{processes.log(label)}')
                if time.monotonic() > deadline:
                    pytest.fail(f'no {what} within {timeout:.0f} s ({discovery}); seen on '
                                f'each host: {json.dumps(processes.seen(probes), indent=1)}'
                                f'\n{processes.logs()}')
                time.sleep(0.2)

        # Training over the link, as seen from the robot host.
        wait_until(lambda: learner('actors') == 1, STARTUP,
                   "the learner's diagnostics counting the robot's transitions")
        connected = time.monotonic() - began
        steps, version = learner('env_steps'), learner('policy_version')
        wait_until(lambda: learner('env_steps') >= steps + 300, PROGRESS,
                   'transitions arriving at the learner')
        wait_until(lambda: learner('policy_version') >= version + 3, PROGRESS,
                   'the policy version rising')
        assert learner('updates') > 0
        wait_until(lambda: actor('policy_version') > 0, PROGRESS,
                   'the actor acting with a policy from the learner host')
        acting = actor('policy_version')
        wait_until(lambda: actor('policy_version') > acting, PROGRESS,
                   'the actor switching to a newer policy')
        trained = time.monotonic() - began

        # The transitions travel over the link and nowhere else (not through shared memory on
        # this one machine): with the link down, the actor goes on stepping (up to its flow
        # control's limit) but the learner counts nothing new; with the link up again, every
        # transition arrives, none lost. An actor that its flow control holds already (a
        # learner behind on a loaded machine) cannot step during a cut: then cut again.
        wait_until(lambda: learner('env_steps', 'learner') > 0, PROGRESS,
                   "the learner's diagnostics on its own host")
        for _ in range(CUTS):
            before = actor('env_steps')
            wait_until(lambda: actor('env_steps') > before, PROGRESS, 'the actor stepping')
            stepped = actor('env_steps')  # the actor's count as the link goes down
            ip('-n', hosts.names['learner'], 'link', 'set', LINK, 'down')
            time.sleep(2 * DIAGNOSTICS_PERIOD)  # what was on its way arrived and was reported
            cut = learner('env_steps', 'learner'), stepped
            time.sleep(CUT_SECONDS)
            during = learner('env_steps', 'learner'), actor('env_steps')
            ip('-n', hosts.names['learner'], 'link', 'set', LINK, 'up')
            assert during[0] == cut[0], ('the learner got transitions with the link down',
                                         cut, during)
            wait_until(lambda: learner('env_steps', 'learner') >= during[1], PROGRESS,
                       'the transitions of the cut arriving once the link is back')
            if during[1] > cut[1]:
                break
        else:
            pytest.fail(f'the actor did not step during any of {CUTS} cuts of the link')
        assert learner('lost_messages', 'learner') == 0
        received, sent = hosts.link_bytes('learner')
    finally:
        processes.stop()
    print(f'{discovery}: learner counted the robot {connected:.1f} s after start; policy '
          f'version {version:.0f} -> {learner("policy_version", "learner"):.0f}, trained '
          f'{trained:.1f} s; env steps at the cut (learner, actor) {cut} -> {during}; learner '
          f'link bytes received {received}, sent {sent}; seconds to stop after SIGINT: '
          f'{processes.stop_seconds}')
