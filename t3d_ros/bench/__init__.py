"""
`t3d-ros bench`: speed of each part, each against a reference measured in the same run.

- learner updates/s: our TD3 update vs a plain sfujim-style update (same sizes, same batches),
  run in alternating rounds so that a change in machine load hits both alike;
- env steps/s of the lockstep loop over ROS (sim + actor processes, as `t3d-ros train` starts
  them) vs the same env and policy stepped in one process, and vs the round trips/s of this
  process and a bare echo node (state, command, next state: the loop's ceiling over rclpy);
- state-to-command latency of a deployed actor (this process plays the robot: it publishes a
  joint state and times the command that answers it) vs a bare echo node timed the same way;
- policy propagation: a 256-256 bundle published -> decoded into a ready policy in another
  process, vs the same bytes received and not decoded;
- wall-clock time to pendulum's return threshold over ROS (from starting the node processes)
  vs the direct trainer in one process, both judged by the mean return of the last 10
  training episodes;
- the learning curve of the direct trainer on half_cheetah next to Stable-Baselines3's TD3 (same
  env, budget, settings and evaluation, the two started together), with its figure.

Node processes run in a private ROS domain with localhost discovery unless ROS_DOMAIN_ID is
set, and are stopped on every path out (a failed measurement, Ctrl-C, SIGTERM). The numbers
depend on the machine and on its load (recorded with the results): the ratios, measured back to
back, carry over between machines better than the absolute values.

One module per measurement (updates, ros_loop, latency, propagation, threshold,
learning_curve); ``ros`` holds
the ROS plumbing and the helper nodes, ``run`` the driver, ``table`` the README table.
"""
from .common import BenchError
from .run import BENCHES, failures, run_benchmarks
from .table import TABLE_ROWS, markdown_table

__all__ = ['BENCHES', 'TABLE_ROWS', 'BenchError', 'failures', 'markdown_table', 'run_benchmarks']
