"""
Deploy a policy bundle: the actor, a managed node, driving a robot (or a realtime sim).

    ros2 launch t3d_ros deploy.launch.py policy:=runs/reacher/policy.safetensors use_sim:=true
    ros2 lifecycle set /actor activate

Launch configures the actor, which loads and checks the policy; it commands the robot only
once an operator activates it, and stops (with a safe command) when the launch process dies,
however it dies (``end_with_launch:=true``, the default). The node graph comes from
t3d_ros.graph.bringup.deploy_graph, which `t3d-ros deploy` runs too.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction
from launch.events import matches_action
from launch_ros.events.lifecycle import ChangeState
from lifecycle_msgs.msg import Transition

from t3d_ros.graph.bringup import deploy_graph
from t3d_ros.tasks import TASK_DESCRIPTION


def launch_setup(context):
    arguments = context.launch_configurations
    graph = deploy_graph(
        task=arguments['task'],
        policy_file=arguments['policy'],
        with_sim=arguments['use_sim'] == 'true',
        namespace=arguments['namespace'],
        config_files=[arguments['config']] if arguments['config'] else [],
        use_sim_time=arguments['use_sim_time'] == 'true')
    actions = [node.launch_action(arguments['end_with_launch'] == 'true') for node in graph]
    configure = [
        EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(action),
                                    transition_id=Transition.TRANSITION_CONFIGURE))
        for node, action in zip(graph, actions) if node.managed]
    return actions + configure


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument(
            'policy',
            description='Policy bundle (.safetensors) to deploy, e.g. the policy.safetensors '
                        'of a run directory.'),
        DeclareLaunchArgument(
            'task', default_value='',
            description="Task the policy was trained on; '' = the bundle's own (rebuilt from "
                        'the copy of its task file it carries). The actor refuses a bundle of '
                        'another task. ' + TASK_DESCRIPTION),
        DeclareLaunchArgument(
            'use_sim', default_value='false', choices=['true', 'false'],
            description='Start a realtime PyBullet sim in place of the robot.'),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description="The robot's namespace (where its joint_states and controllers "
                        "are); '' = root."),
        DeclareLaunchArgument(
            'config', default_value='',
            description='Extra params file read after config/deploy.yaml: a path, or a file '
                        'name in the config folder.'),
        DeclareLaunchArgument(
            'use_sim_time', default_value='false', choices=['true', 'false'],
            description="Every node runs on /clock, published by the one sim (the README's "
                        "time rule), or by the robot's side without use_sim."),
        DeclareLaunchArgument(
            'end_with_launch', default_value='true', choices=['true', 'false'],
            description='Every node gets SIGTERM when this launch process dies, however it '
                        'dies (SIGKILL, a closed terminal): the actor sends its safe command '
                        'and stops commanding. Launch alone leaves its nodes running then '
                        '(README "Deploy on a real robot").'),
        OpaqueFunction(function=launch_setup),
    ])
