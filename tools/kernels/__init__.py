"""Run the conformance suite under other kernels (virtme-ng) and fetch Debian kernels.

``python -m tools.kernels.fetch``  downloads and unpacks Debian kernel images.
``python -m tools.kernels.run``    boots each image, runs the suite inside, compares.
"""
