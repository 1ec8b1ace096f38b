"""The network and how it runs: UNet++ with a VGG16-BN encoder (``model``, torch), the
safetensors model file and its metadata (``checkpoint`` to write and load with torch,
``model_file`` to read without it), the tile-network protocol every backend meets
(``tile_network``), the torch and OpenVINO backends (``torch_network``,
``openvino_network``, ``openvino_export``) and the choice between them (``backends``).
"""
