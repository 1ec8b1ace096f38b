"""Choosing the inference backend."""

from __future__ import annotations

import pytest

import core.network.backends as backends
from core.config import InferenceConfig
from core.errors import ConfigError, LesionLensError
from core.network.backends import backend_setting, make_network, resolve_backend


def test_auto_is_openvino_on_a_cpu_only_machine(monkeypatch) -> None:
    monkeypatch.setattr(backends, "_gpu_available", lambda: False)
    monkeypatch.setattr(backends, "openvino_available", lambda: True)
    assert resolve_backend(InferenceConfig()) == "openvino"
    assert resolve_backend(InferenceConfig(device="cpu")) == "openvino"


def test_auto_is_torch_on_a_gpu_or_without_openvino(monkeypatch) -> None:
    monkeypatch.setattr(backends, "openvino_available", lambda: True)
    monkeypatch.setattr(backends, "_gpu_available", lambda: True)
    assert resolve_backend(InferenceConfig()) == "torch"
    assert resolve_backend(InferenceConfig(device="cpu")) == "openvino"  # the CPU was asked for
    assert resolve_backend(InferenceConfig(device="cuda")) == "torch"
    monkeypatch.setattr(backends, "_gpu_available", lambda: False)
    monkeypatch.setattr(backends, "openvino_available", lambda: False)
    assert resolve_backend(InferenceConfig()) == "torch"


def test_forcing_a_backend_that_cannot_run_says_why(monkeypatch) -> None:
    monkeypatch.setattr(backends, "openvino_available", lambda: False)
    with pytest.raises(LesionLensError, match="OpenVINO is not installed"):
        resolve_backend(InferenceConfig(backend="openvino"))
    monkeypatch.setattr(backends, "openvino_available", lambda: True)
    with pytest.raises(LesionLensError, match="runs on the CPU"):
        resolve_backend(InferenceConfig(backend="openvino", device="cuda"))
    monkeypatch.setattr(backends, "torch_available", lambda: False)
    with pytest.raises(LesionLensError, match="no torch"):
        resolve_backend(InferenceConfig(backend="torch"))


def test_the_setting_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("LESIONLENS_BACKEND", raising=False)
    assert backend_setting() == "auto"
    monkeypatch.setenv("LESIONLENS_BACKEND", "Torch")
    assert backend_setting() == "torch"
    monkeypatch.setenv("LESIONLENS_BACKEND", "tpu")
    with pytest.raises(ConfigError, match="LESIONLENS_BACKEND='tpu'"):
        backend_setting()


def test_a_bad_backend_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="backend 'onnx'"):
        InferenceConfig(backend="onnx")  # type: ignore[arg-type]


def test_without_torch_and_without_an_export_the_message_says_what_to_do(tiny_loaded, monkeypatch, tmp_path):
    monkeypatch.setenv("LESIONLENS_OPENVINO_DIR", str(tmp_path))
    monkeypatch.setattr(backends, "torch_available", lambda: False)
    monkeypatch.setattr(backends, "find_export", lambda sha256: None)
    with pytest.raises(LesionLensError, match="no OpenVINO export here and this LesionLens has no torch"):
        make_network(tiny_loaded, InferenceConfig(device="cpu", backend="openvino"))
