"""An example t3d_ros task from its own package: ``slider``."""
