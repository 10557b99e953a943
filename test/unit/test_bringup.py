"""
The node graphs, their ROS arguments and params-file precedence (no ROS needed).

Two tests check ``load_params`` and ``NodeSpec.ros_args`` against rclpy itself; they are
skipped where rclpy is missing.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from t3d_ros.graph import bringup
from t3d_ros.graph.bringup import GroupSpec, NodeSpec, deploy_graph, load_params, train_graph
from t3d_ros.paths import config_path
from t3d_ros.tasks.seeds import robot_seed
from t3d_ros.td3.config import TD3Config

TRICKY_VALUES = {
    'names': ['shoulder', 'true', ''], 'sizes': [64, 64], 'limits': [-0.5, 1.0],
    'flags': [True, False], 'enabled': False, 'empty': '', 'looks_bool': 'true',
    'looks_int': '1', 'looks_null': 'null', 'rate': 3e-4, 'count': 7,
}
"""Values whose type a careless rendering would change (strings that read as YAML scalars)."""


def write_yaml(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def section(**parameters) -> dict:
    return {'ros__parameters': parameters}


# --- the training graph ------------------------------------------------------------------

def test_train_graph_has_a_learner_and_a_sim_and_actor_per_robot():
    graph = train_graph('pendulum', num_actors=3, robots_per_process=1)

    assert [(n.executable, n.name, n.namespace) for n in graph] == [
        ('learner_node', 'learner', ''),
        ('sim_node', 'sim', 'robot_0'), ('actor_node', 'actor', 'robot_0'),
        ('sim_node', 'sim', 'robot_1'), ('actor_node', 'actor', 'robot_1'),
        ('sim_node', 'sim', 'robot_2'), ('actor_node', 'actor', 'robot_2'),
    ]
    assert [n.fully_qualified_name for n in graph[:3]] == [
        '/learner', '/robot_0/sim', '/robot_0/actor']
    assert all(n.package == 't3d_ros' and not n.managed and not n.remappings for n in graph)
    assert all(n.parameters['task'] == 'pendulum' for n in graph)
    actors = [n for n in graph if n.name == 'actor']
    assert [a.parameters['actor_id'] for a in actors] == ['robot_0', 'robot_1', 'robot_2']
    assert all(a.parameters['mode'] == 'train' for a in actors)


def test_train_graph_reads_defaults_then_task_file_then_user_files(tmp_path):
    user = write_yaml(tmp_path / 'mine.yaml', {'/learner': section(batch_size=32)})

    graph = train_graph('reacher', config_files=[user, 'test_fast.yaml'])

    expected = (config_path('train.yaml'), config_path('reacher.yaml'), user.resolve(),
                config_path('test_fast.yaml'))
    assert all(node.params_files == expected for node in graph)
    with pytest.raises(FileNotFoundError, match='no_such.yaml'):
        train_graph('reacher', config_files=['no_such.yaml'])


def test_robot_seeds_are_distinct_shared_within_a_robot_and_deterministic():
    graph = train_graph('reacher', num_actors=4, seed=7, robots_per_process=1)
    seeds = {(n.namespace, n.name): n.parameters['seed'] for n in graph}

    assert seeds[('', 'learner')] == 7
    robots = [seeds[(f'robot_{i}', 'sim')] for i in range(4)]
    assert robots == [seeds[(f'robot_{i}', 'actor')] for i in range(4)]
    assert len(set(robots)) == 4 and 7 not in robots
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in robots)
    assert robots == [robot_seed(7, i) for i in range(4)]
    assert train_graph('reacher', num_actors=4, seed=7, robots_per_process=1) == graph
    assert robots[:1] == [train_graph('reacher', num_actors=1, seed=7)[1].parameters['seed']]
    assert robots != [n.parameters['seed'] for n in train_graph('reacher', 4, seed=8,
                                                                robots_per_process=1)
                      if n.name == 'sim']


def test_train_overrides_reach_every_node_of_that_name(tmp_path):
    graph = train_graph('reacher', num_actors=2, run_dir=tmp_path, robots_per_process=1,
                        overrides={'sim': {'mode': 'realtime'}, 'learner': {'batch_size': 32}})

    learner = graph[0]
    assert (learner.parameters['batch_size'], learner.parameters['run_dir']) == (
        32, str(tmp_path))
    assert [n.parameters['mode'] for n in graph[1:]] == ['realtime', 'train'] * 2
    assert 'mode' not in learner.parameters
    assert 'run_dir' not in train_graph('reacher')[0].parameters
    with pytest.raises(ValueError, match='unknown nodes'):
        train_graph('reacher', overrides={'simulator': {'mode': 'realtime'}})
    with pytest.raises(ValueError, match='num_actors'):
        train_graph('reacher', num_actors=0)


def test_training_configs_resolve_to_the_documented_values():
    fast = train_graph('pendulum', num_actors=2, config_files=['test_fast.yaml'],
                       robots_per_process=1)
    learner, sim, actor = (fast[0].resolved_parameters(), fast[3].resolved_parameters(),
                           fast[4].resolved_parameters())

    assert learner['hidden_sizes'] == [64, 64] and learner['learning_starts'] == 100
    assert 'start_steps' not in learner and actor['start_steps'] == 100
    assert (sim['mode'], sim['task']) == ('lockstep', 'pendulum')
    assert (actor['actor_id'], actor['seed']) == ('robot_1', fast[4].parameters['seed'])
    assert (actor['trigger'], actor['state_timeout'], actor['state_qos']) == (
        'state', 0.0, 'reliable')

    reacher = train_graph('reacher')[0].resolved_parameters()
    assert train_graph('reacher')[2].resolved_parameters()['start_steps'] == 1000
    assert reacher['learning_starts'] == 1000
    td3 = TD3Config.from_dict({name: reacher[name] for name in TD3Config().to_dict()
                               if name != 'seed'})
    assert td3.hidden_sizes == (256, 256) and td3.batch_size == 256
    assert td3.actor_lr == td3.critic_lr == 3e-4 and td3.updates_per_step == 1.0


def test_learner_settings_are_learner_parameters():
    from t3d_ros.training.learner import LearnerOptions

    declared = {*TD3Config().to_dict(), *LearnerOptions().__dict__,
                'task', 'run_dir', 'resume', 'torch_threads'}
    for task in ('reacher', 'pendulum'):
        learner = train_graph(task, config_files=['test_fast.yaml'])[0]
        assert set(learner.resolved_parameters()) <= declared


# --- several robots per process ---------------------------------------------------------------

def processes(graph) -> list[tuple[str, list[str]]]:
    return [(spec.executable, [node.fully_qualified_name for node in spec.nodes])
            for spec in graph]


def test_robots_share_sim_and_actor_processes_in_groups_of_robots_per_process():
    alone = train_graph('reacher', num_actors=8, seed=3, robots_per_process=1)
    sims = [f'/robot_{i}/sim' for i in range(8)]
    actors = [f'/robot_{i}/actor' for i in range(8)]

    everything = train_graph('reacher', num_actors=8, seed=3, robots_per_process=8)
    assert processes(everything) == [('learner_node', ['/learner']), ('sim_group', sims),
                                     ('actor_group', actors)]
    # Groups as even as possible, robots in order; a group of one is the plain node.
    assert processes(train_graph('reacher', 8, robots_per_process=3)) == [
        ('learner_node', ['/learner']),
        ('sim_group', sims[:2]), ('actor_group', actors[:2]),
        ('sim_group', sims[2:5]), ('actor_group', actors[2:5]),
        ('sim_group', sims[5:]), ('actor_group', actors[5:])]
    assert processes(train_graph('reacher', 3, robots_per_process=2))[3:] == [
        ('sim_group', ['/robot_1/sim', '/robot_2/sim']),
        ('actor_group', ['/robot_1/actor', '/robot_2/actor'])]
    assert processes(train_graph('reacher', 2, robots_per_process=1)) == [
        ('learner_node', ['/learner']), ('sim_node', ['/robot_0/sim']),
        ('actor_node', ['/robot_0/actor']), ('sim_node', ['/robot_1/sim']),
        ('actor_node', ['/robot_1/actor'])]
    # Members are the very nodes a process per node would run.
    members = [node for spec in everything for node in spec.nodes]
    assert sorted(members, key=str) == sorted(alone, key=str)
    assert [spec.name for spec in everything] == ['learner', 'sim_group_0', 'actor_group_0']
    with pytest.raises(ValueError, match='robots_per_process'):
        train_graph('reacher', 2, robots_per_process=-1)


@pytest.mark.parametrize('robots,cpus,expected', [
    (8, 2, 8), (8, 4, 8), (8, 8, 3), (8, 16, 2), (1, 2, 1), (1, 16, 1), (2, 32, 1), (3, 6, 2)])
def test_default_robots_per_process_leaves_a_core_to_the_learner_and_two_per_pair(
        robots, cpus, expected):
    assert bringup.default_robots_per_process(robots, cpus) == expected


def test_by_default_robots_share_processes_by_the_cpu_count(monkeypatch):
    monkeypatch.setattr(bringup.os, 'sched_getaffinity', lambda pid: {0, 1}, raising=False)
    assert processes(train_graph('pendulum', 8))[1:] == [
        ('sim_group', [f'/robot_{i}/sim' for i in range(8)]),
        ('actor_group', [f'/robot_{i}/actor' for i in range(8)])]
    assert [spec.executable for spec in train_graph('pendulum', 1)] == [
        'learner_node', 'sim_node', 'actor_node']


def test_a_group_runs_its_namespaces_with_a_params_section_per_member(tmp_path):
    sim_group = train_graph('pendulum', 2, seed=3, robots_per_process=2,
                            overrides={'sim': {'mode': 'lockstep'}})[1]

    command = sim_group.command(tmp_path, 'python')

    assert command[:6] == ['python', '-m', 't3d_ros.nodes.entry', 'sim_group', 'robot_0',
                           'robot_1']
    assert command[6] == '--ros-args' and '-r' not in command  # no __node/__ns: they rename all
    files = command[8::2]
    assert command[7::2] == ['--params-file'] * len(files)
    assert files[:-1] == [str(path) for path in sim_group.params_files]
    assert yaml.safe_load(Path(files[-1]).read_text()) == {
        f'/robot_{i}/sim': {'ros__parameters': {
            'task': 'pendulum', 'seed': robot_seed(3, i), 'mode': 'lockstep'}}
        for i in range(2)}


def test_a_group_refuses_members_it_cannot_host():
    sim = NodeSpec('sim_node', 'sim', 'robot_0')
    with pytest.raises(ValueError, match='cannot host'):
        GroupSpec('actor_group', 'g', (sim, NodeSpec('sim_node', 'sim', 'robot_1')))
    with pytest.raises(ValueError, match='distinct namespaces'):
        GroupSpec('sim_group', 'g', (sim, sim))
    with pytest.raises(ValueError, match='share their name'):
        GroupSpec('sim_group', 'g', (sim, NodeSpec('sim_node', 'other', 'robot_1')))
    with pytest.raises(ValueError, match='members'):
        GroupSpec('sim_group', 'g', ())


def test_every_training_process_respawns_and_no_deployed_one_does(tmp_path):
    """Issue 18: a node that dies in training starts again, as launch's ``respawn``."""
    for robots_per_process in (1, 2):
        graph = train_graph('pendulum', 2, robots_per_process=robots_per_process)
        assert [spec.respawn for spec in graph] == [bringup.TRAINING_RESPAWN] * len(graph)
    assert bringup.TRAINING_RESPAWN.delay > 0 and bringup.TRAINING_RESPAWN.max_retries > 0
    assert [spec.respawn for spec in deploy_graph('pendulum', tmp_path / 'p', True)] == [
        None, None]
    sim = NodeSpec('sim_node', 'sim', 'robot_0', respawn=bringup.Respawn(1.0, 2))
    with pytest.raises(ValueError, match='respawn'):
        GroupSpec('sim_group', 'g', (sim, NodeSpec('sim_node', 'sim', 'robot_1')))
    with pytest.raises(ValueError, match='respawn'):
        bringup.Respawn(delay=-1.0)


def test_launch_actions_get_respawn_and_the_launch_process_as_the_parent_to_end_with():
    """What the launch files pass to launch_ros's Node (issue 18)."""
    from t3d_ros.nodes.parent_death import PARENT_PID_ENV

    respawn = bringup.Respawn(delay=1.5, max_retries=4)
    assert bringup._process_options(respawn, end_with_launch=True) == {
        'respawn': True, 'respawn_delay': 1.5, 'respawn_max_retries': 4,
        'additional_env': {PARENT_PID_ENV: str(os.getpid())}}
    assert bringup._process_options(None, end_with_launch=False) == {}


# --- the deployment graph -------------------------------------------------------------------

def test_deploy_graph_is_a_managed_actor_with_an_optional_sim(tmp_path):
    policy = tmp_path / 'policy.safetensors'
    (actor,) = deploy_graph('reacher', policy)
    assert (actor.executable, actor.name, actor.namespace, actor.managed) == (
        'actor_node', 'actor', '', True)
    assert actor.parameters == {'task': 'reacher', 'mode': 'deploy',
                                'policy_file': str(policy)}
    assert actor.params_files == (config_path('deploy.yaml'),)
    resolved = actor.resolved_parameters()
    assert (resolved['trigger'], resolved['state_qos'], resolved['autostart']) == (
        'timer', 'best_effort', False)

    sim, actor = deploy_graph('reacher', policy, with_sim=True, namespace='arm',
                              remappings=[('joint_states', '/arm/state')],
                              overrides={'actor': {'max_delta': 0.5}})
    assert [(n.name, n.namespace, n.managed) for n in (sim, actor)] == [
        ('sim', 'arm', False), ('actor', 'arm', True)]
    assert sim.remappings == actor.remappings == (('joint_states', '/arm/state'),)
    assert sim.resolved_parameters()['mode'] == 'realtime'
    assert actor.parameters['max_delta'] == 0.5
    with pytest.raises(ValueError, match='policy'):
        deploy_graph('reacher', '')
    with pytest.raises(ValueError, match='unknown nodes'):
        deploy_graph('reacher', policy, overrides={'learner': {}})


# --- time: use_sim_time and the one /clock source (the README's rule) ------------------------

def test_by_default_no_node_publishes_clock_or_uses_sim_time(tmp_path):
    graph = [*train_graph('pendulum', num_actors=3, robots_per_process=3),
             *deploy_graph('reacher', tmp_path / 'policy.safetensors', with_sim=True)]
    for spec in (node for process in graph for node in process.nodes):
        resolved = spec.resolved_parameters()
        assert not resolved.get('use_sim_time', False), spec
        assert not resolved.get('publish_clock', False), spec


def test_use_sim_time_puts_every_node_on_the_one_sims_clock(tmp_path):
    train = train_graph('pendulum', use_sim_time=True, config_files=['test_fast.yaml'])
    deploy = deploy_graph('reacher', tmp_path / 'policy.safetensors', with_sim=True,
                          use_sim_time=True)
    robot_only = deploy_graph('reacher', tmp_path / 'policy.safetensors', use_sim_time=True)
    for graph in (train, deploy, robot_only):
        resolved = {spec.name: spec.resolved_parameters() for spec in graph}
        assert all(values['use_sim_time'] is True for values in resolved.values()), resolved
        clocks = [name for name, values in resolved.items() if values.get('publish_clock')]
        assert clocks == (['sim'] if 'sim' in resolved else []), resolved


def test_two_clock_sources_are_refused(tmp_path):
    with pytest.raises(ValueError, match='one /clock source'):
        train_graph('pendulum', num_actors=2, use_sim_time=True)
    clock_file = write_yaml(tmp_path / 'clock.yaml', {'/**/sim': section(publish_clock=True)})
    assert len(train_graph('pendulum', num_actors=1, config_files=[clock_file])) == 3
    with pytest.raises(ValueError, match='2 /clock sources'):
        train_graph('pendulum', num_actors=2, config_files=[clock_file])
    with pytest.raises(ValueError, match='2 /clock sources'):
        train_graph('pendulum', num_actors=2, overrides={'sim': {'publish_clock': True}})


# --- ROS arguments --------------------------------------------------------------------------

def test_ros_args_name_the_node_and_pass_overrides_as_the_last_params_file(tmp_path):
    spec = NodeSpec('sim_node', 'sim', 'robot_0', (Path('/cfg/a.yaml'),), {'seed': 3},
                    (('joint_states', 'state'),))

    args = spec.ros_args(tmp_path)

    overrides = tmp_path / 'robot_0.sim.yaml'
    assert args == ['--ros-args', '-r', '__node:=sim', '-r', '__ns:=/robot_0',
                    '--params-file', '/cfg/a.yaml', '--params-file', str(overrides),
                    '-r', 'joint_states:=state']
    assert yaml.safe_load(overrides.read_text()) == {'/robot_0/sim': section(seed=3)}
    assert spec.command(tmp_path, python='py')[:4] == ['py', '-m', 't3d_ros.nodes.entry',
                                                       'sim_node']
    assert spec.command(tmp_path)[0] == sys.executable
    root = NodeSpec('learner_node', 'learner')
    assert root.ros_args(tmp_path) == ['--ros-args', '-r', '__node:=learner', '-r', '__ns:=/']


def test_parameter_values_survive_the_yaml_rendering(tmp_path):
    spec = NodeSpec('actor_node', 'actor', 'robot_0', parameters=TRICKY_VALUES)
    files = [arg for arg in spec.ros_args(tmp_path) if arg.endswith('.yaml')]

    loaded = load_params(files, 'actor', 'robot_0')

    assert loaded == TRICKY_VALUES
    assert {k: type(v) for k, v in loaded.items()} == {
        k: type(v) for k, v in TRICKY_VALUES.items()}


# --- params-file precedence ------------------------------------------------------------------

@pytest.fixture
def layered_files(tmp_path):
    """Two params files that exercise every rule of rcl's precedence."""
    first = write_yaml(tmp_path / 'first.yaml', {
        '/**': section(task='reacher', a=1, b=1, c=1, nested={'x': 1}),
        '/**/sim': section(a=2, b=2, e=2),
        'robot_0': {'sim': section(b=3)},    # section 'robot_0/sim': /robot_0's sim only
        'sim': section(d='root only'),       # no namespace: the root namespace's sim
        '/**/actor': section(a='actor'),
    })
    second = write_yaml(tmp_path / 'second.yaml', {
        '/**': section(a=10, c=10),          # updates /** in place: still beaten by /**/sim
        '/**/sim': section(e=20),            # same section name: overrides
        '/robot_0/*': section(f=30),         # first seen here: beats every earlier section
        'robot_0/sim': section(g=40),        # = first.yaml's nested section, updated in place
    })
    return [first, second]


def test_load_params_applies_rcl_precedence(layered_files):
    assert load_params(layered_files, 'sim', 'robot_0') == {
        'task': 'reacher', 'a': 2, 'b': 3, 'c': 10, 'nested.x': 1, 'e': 20, 'f': 30, 'g': 40}
    assert load_params(layered_files, 'sim') == {
        'task': 'reacher', 'a': 2, 'b': 2, 'c': 10, 'nested.x': 1, 'd': 'root only', 'e': 20}
    assert load_params(layered_files, 'actor', '/robot_0/') == {
        'task': 'reacher', 'a': 'actor', 'b': 1, 'c': 10, 'nested.x': 1, 'f': 30}
    reversed_order = load_params(layered_files[::-1], 'sim', 'robot_0')
    assert (reversed_order['a'], reversed_order['e'], reversed_order['b']) == (2, 2, 3)


def test_overrides_beat_the_params_files(layered_files, tmp_path):
    spec = NodeSpec('sim_node', 'sim', 'robot_0', tuple(layered_files),
                    {'a': 99, 'b': 98, 'f': 97})
    assert {k: spec.resolved_parameters()[k] for k in 'abfg'} == {
        'a': 99, 'b': 98, 'f': 97, 'g': 40}

    # rcl's one exception (launch_ros's parameters dicts share it): a file that names the
    # node's own section, then a matching section first seen after it.
    own = write_yaml(tmp_path / 'own.yaml', {'/robot_0/sim': section(a=5)})
    later = write_yaml(tmp_path / 'later.yaml', {'/*/sim': section(a=6)})
    spec = NodeSpec('sim_node', 'sim', 'robot_0', (*layered_files, own, later), {'a': 99})
    assert spec.resolved_parameters()['a'] == 6


def test_load_params_rejects_a_file_that_is_not_a_params_file(tmp_path):
    with pytest.raises(ValueError, match='ros__parameters'):
        load_params([write_yaml(tmp_path / 'bad.yaml', {'ros__parameters': {'a': 1}})], 'n')
    with pytest.raises(ValueError, match='maps node names'):
        load_params([write_yaml(tmp_path / 'bad.yaml', {'/**': [1, 2]})], 'n')


PROBE = """
import array, faulthandler, json, sys

faulthandler.dump_traceback_later(PROBE_TIMEOUT - 10, exit=True)
import rclpy
from rclpy.node import Node

answers = []
for init_args, nodes in json.load(sys.stdin):
    context = rclpy.Context()
    rclpy.init(args=init_args, context=context)
    try:
        for name, namespace, cli_args in nodes:
            node = Node(name, namespace=namespace, context=context, cli_args=cli_args,
                        enable_rosout=False, start_parameter_services=False,
                        automatically_declare_parameters_from_overrides=True)
            answers.append({key: list(p.value) if isinstance(p.value, (list, array.array))
                            else p.value for key, p in node.get_parameters_by_prefix('').items()})
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
json.dump(answers, sys.stdout)
"""
"""Print the parameters rclpy gives each node: [init args, [(name, namespace, cli args)]]."""
PROBE_TIMEOUT = 120


def rclpy_parameters(contexts: list) -> list[dict]:
    """
    Return what rclpy gives each node of ``contexts`` (its built-ins left out).

    rclpy runs in a child process, away from whatever this long test session's earlier tests
    left in its own (threads, DDS participants): a node created next to those once hung in
    rcl's node initialisation, where no timeout of the session can interrupt it. A hang of the
    child fails the test with its stack instead.
    """
    pytest.importorskip('rclpy', reason='needs rclpy (the ros-rclpy wheels or ROS 2)')
    request = [[[], [['probe', '', []]]], *contexts]
    try:
        done = subprocess.run([sys.executable, '-c', PROBE.replace('PROBE_TIMEOUT',
                                                                   str(PROBE_TIMEOUT))],
                              input=json.dumps(request), capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f'the rclpy probe hung:\n{error.stderr}')
    assert done.returncode == 0, done.stderr
    builtin, *answers = json.loads(done.stdout)
    return [{key: value for key, value in answer.items() if key not in builtin}
            for answer in answers]


def as_json(parameters: dict) -> dict:
    """``parameters`` as they come back from the probe (tuples as lists)."""
    return json.loads(json.dumps(parameters))


@pytest.mark.ros
def test_rclpy_gives_a_node_what_load_params_says(layered_files, tmp_path):
    own = write_yaml(tmp_path / 'own.yaml', {'/robot_0/sim': section(a=5, h=5)})
    later = write_yaml(tmp_path / 'later.yaml', {'/*/sim': section(a=6)})
    spec = NodeSpec('sim_node', 'sim', 'robot_0', (*layered_files, own, later),
                    {**TRICKY_VALUES, 'a': 99, 'b': 98, 'f': 97, 'h': 96})

    (given,) = rclpy_parameters([[[], [['probe', '', spec.ros_args(tmp_path)]]]])

    assert given == as_json(spec.resolved_parameters())


@pytest.mark.ros
def test_rclpy_reads_the_config_files_as_load_params_does(tmp_path):
    graph = [*train_graph('pendulum', num_actors=2, config_files=['test_fast.yaml'],
                          robots_per_process=1),
             *deploy_graph('reacher', tmp_path / 'policy.safetensors', with_sim=True)]

    given = rclpy_parameters([[[], [['probe', '', spec.ros_args(tmp_path)]]]
                              for spec in graph])

    for spec, parameters in zip(graph, given, strict=True):
        assert parameters == as_json(spec.resolved_parameters()), spec


@pytest.mark.ros
def test_rclpy_gives_each_member_of_a_group_what_resolved_parameters_says(tmp_path):
    graph = train_graph('pendulum', 3, config_files=['test_fast.yaml'], robots_per_process=3,
                        overrides={'actor': {'max_delta': 0.25}})
    groups = graph[1:]

    given = rclpy_parameters([
        [['group', *group.arguments, *group.ros_args(tmp_path)],
         [[member.name, member.namespace, []] for member in group.members]]
        for group in groups])

    members = [member for group in groups for member in group.members]
    for member, parameters in zip(members, given, strict=True):
        expected = as_json(member.resolved_parameters())
        assert {key: parameters.get(key) for key in expected} == expected, member


def test_the_realtime_config_lets_the_learner_run_up_to_its_measured_ceiling():
    learner, sim, actor = (spec.resolved_parameters()
                           for spec in train_graph('reacher', config_files=['realtime.yaml']))
    assert (learner['updates_per_step'], learner['max_updates_per_step']) == (1.0, 4.0)
    assert (sim['mode'], actor['trigger'], actor['follow_throttle']) == (
        'realtime', 'timer', False)
    assert train_graph('reacher')[0].resolved_parameters()['max_updates_per_step'] == 0.0
