"""Use cases of the wallet, one transaction each: domain rules + store + issuer.

Routes and pages call services; services never import routes or pages.
"""
