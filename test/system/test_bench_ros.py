"""The ROS measurements of `t3d-ros bench` run end to end, briefly (no timing assertions)."""
import math

import pytest

from t3d_ros.bench.ros_loop import bench_ros_loop


@pytest.mark.slow
def test_ros_loop_measures_the_loop_the_process_and_the_bare_round_trip():
    result = bench_ros_loop(seconds=1.5)
    for key in ('ros_steps_per_s', 'direct_steps_per_s', 'echo_round_trips_per_s'):
        assert result[key] > 0 and math.isfinite(result[key]), key
