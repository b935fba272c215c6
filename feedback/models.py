"""Customer feedback (R6.2): complaints, suggestions and questionnaires.

The models arrive with the feedback issue; the app exists now so the layout of
DESIGN is complete and the lifecycle can link to it later.
"""
