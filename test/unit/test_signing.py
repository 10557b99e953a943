"""HMAC-SHA256 signatures of policy bundles: constant-time checks, key files."""
import hmac

import pytest

from t3d_ros.bundle import signing


def test_signatures_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(signing.hmac, 'compare_digest',
                        lambda a, b: calls.append((a, b)) or real(a, b))
    key, data = b'k' * 32, b'bundle bytes'
    signing.verify(key, data, signing.signature_label(key, data))
    with pytest.raises(signing.SignatureError, match='bad_signature'):
        signing.verify(key, data + b'!', signing.signature_label(key, data))
    with pytest.raises(signing.SignatureError, match='unsigned'):
        signing.verify(key, data, '')
    assert len(calls) == 2


@pytest.mark.parametrize('content, message', [(b'short\n', 'at least 16'),
                                              (None, 'cannot read')])
def test_a_bad_key_file_is_refused_with_its_name(tmp_path, content, message):
    path = tmp_path / 'k'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        signing.load_key(path)
