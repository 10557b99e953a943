"""ament_python package t3d_ros: TD3 training and deployment for ROS 2 joint control."""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = 't3d_ros'

setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        ('share/' + PACKAGE + '/launch', glob('launch/*.launch.py')),
        ('share/' + PACKAGE + '/config', glob('config/*.yaml')),
        ('share/' + PACKAGE + '/config/tasks', glob('config/tasks/*.yaml')),
        ('share/' + PACKAGE + '/sim', glob('sim/*.urdf')),
    ],
    # Runtime dependencies are pinned in requirements*.txt (torch==2.13.0 CPU build) and
    # declared in package.xml; setuptools must not fetch them during `colcon build`.
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='t3d_ros developers',
    maintainer_email='dev@t3d-ros.org',
    description='TD3 training and deployment of continuous joint-control policies on ROS 2.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'sim_node = t3d_ros.nodes.entry:sim_node',
            'actor_node = t3d_ros.nodes.entry:actor_node',
            'learner_node = t3d_ros.nodes.entry:learner_node',
            'sim_group = t3d_ros.nodes.entry:sim_group',
            'actor_group = t3d_ros.nodes.entry:actor_group',
            't3d-ros = t3d_ros.cli:main',
        ],
    },
)
