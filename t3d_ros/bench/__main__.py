"""``python -m t3d_ros.bench NAME --ros-args ...``: run the bench's helper node NAME."""
import sys

import torch

from t3d_ros.bench.ros import HELPER_NODES
from t3d_ros.ros.spin import run_node

torch.set_num_threads(1)
raise SystemExit(run_node(HELPER_NODES[sys.argv[1]]))
