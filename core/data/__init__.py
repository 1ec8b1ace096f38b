"""Where photographs and their ground truth are found: dataset layouts (IDRiD, DDR, a plain
folder; ``datasets``), the masks that belong to one photograph (``ground_truth``) and seeded
synthetic photographs with exact masks for tests and demos (``synthetic``). No model, no torch.
"""
