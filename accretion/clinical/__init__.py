"""The clinical core: pure Python rules with no Django imports.

Every clinical decision the portal makes (screening, preparation values,
aftercare dates, instrument scores) lives here as data plus functions, so
the pages, the API and the command line all reach the same answer.
"""
