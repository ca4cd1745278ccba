"""Image tooling: what each image is (:mod:`catalogue`), the local stand-ins for images no
registry here serves (:mod:`standins`), ``docker build`` of the repository's Dockerfiles
(:mod:`build`), and the checks run on built images with ``docker run`` (:mod:`checks`).
Stdlib only: GitHub's image workflow runs the smoke checks with the runner's python3.
"""
