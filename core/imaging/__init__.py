"""Pixels in and out: reading photographs and masks, atomic writes (``io``), the Otsu
field of view (``fov``), the camera-independent working image (``preprocess``: field of view
at one scale, even illumination and colour), sliding-window tiles and their stitching
(``tiling``), and the uint8 probability maps every other package hands around
(``probability_maps``). numpy and OpenCV only; the lowest layer: it imports no other package.
"""
