"""
Train a TD3 policy: one learner and, per robot, a PyBullet sim and an actor.

    ros2 launch t3d_ros train.launch.py task:=pendulum num_actors:=2

The node graph comes from t3d_ros.graph.bringup.train_graph, which `t3d-ros train` runs too: a
node that dies is started again (respawn, TRAINING_RESPAWN), and every node ends when the launch
process dies (``end_with_launch:=true``, the default).
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction

from t3d_ros.graph.bringup import train_graph
from t3d_ros.tasks import TASK_DESCRIPTION


def launch_setup(context):
    arguments = context.launch_configurations
    graph = train_graph(
        task=arguments['task'],
        num_actors=int(arguments['num_actors']),
        config_files=[arguments['config']] if arguments['config'] else [],
        seed=int(arguments['seed']),
        run_dir=arguments['run_dir'],
        use_sim_time=arguments['use_sim_time'] == 'true',
        robots_per_process=int(arguments['robots_per_process']))
    return [node.launch_action(arguments['end_with_launch'] == 'true') for node in graph]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument(
            'task', default_value='reacher',
            description='Task to learn; a built-in one also selects config/<task>.yaml. '
                        + TASK_DESCRIPTION),
        DeclareLaunchArgument(
            'num_actors', default_value='1',
            description='Robots, each a sim and an actor in namespace robot_<i>.'),
        DeclareLaunchArgument(
            'robots_per_process', default_value='0',
            description='Robots whose sims share a process (their actors share another); '
                        '0 = by the CPU count (all in one pair of processes on 2-4 cores), '
                        '1 = a process per node.'),
        DeclareLaunchArgument(
            'config', default_value='',
            description='Extra params file read after config/train.yaml and '
                        'config/<task>.yaml: a path, or a file name in the config folder '
                        '(e.g. test_fast.yaml).'),
        DeclareLaunchArgument(
            'seed', default_value='0',
            description="The learner's seed; each robot's is derived from it."),
        DeclareLaunchArgument(
            'run_dir', default_value='',
            description="Learner's run directory (metrics, checkpoints, final policy); "
                        "'' = the params files' value."),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false', choices=['true', 'false'],
            description="Every node runs on /clock, published by the one sim (the README's "
                        'time rule); one robot only.'),
        DeclareLaunchArgument(
            'end_with_launch', default_value='true', choices=['true', 'false'],
            description='Every node gets SIGTERM when this launch process dies, however it '
                        'dies (SIGKILL, a closed terminal): the learner saves as on Ctrl-C, '
                        'actors and sims stop. Launch alone leaves its nodes running then '
                        '(README "Deploy on a real robot").'),
        OpaqueFunction(function=launch_setup),
    ])
