"""
``t3d-ros eval POLICY --video FILE`` (issue 19.4): evaluation episodes on film, headless.

reacher (50 control steps, a goal): one frame after each reset and each step, so 51 per episode.
"""
import sys

import pytest

from t3d_ros import cli
from t3d_ros.bench.common import random_bundle
from t3d_ros.envs import TaskEnv
from t3d_ros.envs.camera import Camera
from t3d_ros.tasks import make_task

FRAMES_PER_EPISODE = 51


@pytest.fixture
def reacher_policy(tmp_path):
    path = tmp_path / 'reacher.safetensors'
    random_bundle(make_task('reacher'), hidden_sizes=(8,)).save(path)
    return path


@pytest.mark.parametrize('suffix, episodes', [('.mp4', 2), ('.gif', 1)])
def test_a_video_has_a_frame_per_reset_and_step_of_every_episode(reacher_policy, tmp_path,
                                                                 capsys, suffix, episodes):
    imageio = pytest.importorskip('imageio.v3', reason='the video extra (requirements-video.txt)')
    if suffix == '.mp4':
        pytest.importorskip('imageio_ffmpeg', reason='the video extra (requirements-video.txt)')
    video = tmp_path / f'reacher{suffix}'
    assert cli.main(['eval', str(reacher_policy), '--episodes', str(episodes),
                     '--video', str(video)]) == 0
    frames = episodes * FRAMES_PER_EPISODE
    assert f'video: {video} ({frames} frames)' in capsys.readouterr().out
    plugin = {'.mp4': 'FFMPEG', '.gif': 'pillow'}[suffix]
    shapes = [frame.shape for frame in imageio.imiter(video, plugin=plugin)]
    assert len(shapes) == frames and set(shapes) == {(320, 480, 3)}


def test_a_png_is_a_strip_of_six_frames_in_two_rows(reacher_policy, tmp_path):
    from PIL import Image

    strip = tmp_path / 'reacher.png'
    assert cli.main(['eval', str(reacher_policy), '--episodes', '1', '--video', str(strip)]) == 0
    with Image.open(strip) as image:
        assert image.size == (3 * 480, 2 * 320)


def test_the_goal_is_drawn_where_the_renderer_shows_its_marker():
    env = TaskEnv('reacher')
    try:
        env.reset(seed=3)
        camera = Camera(env.robot, 480, 320)
        column, row = camera.project(env.robot.shown_goal())
        assert 0 < column < 480 and 0 < row < 320
        red, green, blue = camera.render()[int(row), int(column)].astype(int)
        assert red > 150 and green < 100 and blue < 100, (red, green, blue)  # the red marker
    finally:
        env.close()


@pytest.mark.parametrize('suffix, missing, needs', [
    ('.gif', ('imageio', 'imageio.v2'), 'needs imageio, the optional video extra'),
    ('.mp4', ('imageio_ffmpeg',), 'needs imageio and imageio-ffmpeg, the optional video extra'),
])
def test_a_missing_video_extra_is_named_before_any_episode(reacher_policy, tmp_path, capsys,
                                                           monkeypatch, suffix, missing, needs):
    for module in missing:
        monkeypatch.setitem(sys.modules, module, None)  # importing it raises ImportError
    video = tmp_path / f'reacher{suffix}'
    assert cli.main(['eval', str(reacher_policy), '--video', str(video)]) == 2
    error = capsys.readouterr().err
    assert needs in error and 'pip install -r requirements-video.txt' in error
    assert not video.exists()


def test_an_unknown_file_type_is_refused(reacher_policy, tmp_path, capsys):
    assert cli.main(['eval', str(reacher_policy), '--video', str(tmp_path / 'x.avi')]) == 2
    assert 'the file type must be one of .mp4, .gif, .png' in capsys.readouterr().err
