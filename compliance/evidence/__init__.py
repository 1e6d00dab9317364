"""Evidence an auditor can take away: a verifiable package (manifest, findings, OCSF, XLSX and PDF
reports, the DSR register, the policy and queries that produced them) and its verification.

- `ocsf`: findings as OCSF Compliance Finding (class 2003) objects, validated with py-ocsf-models;
- `contents`: every derived file of a package, computed from a database, a policy folder and a query
  folder (the one function both `build` and `verify` call, so verification re-derives what was built);
- `workbook` / `document`: the XLSX and PDF renderings of the report tables;
- `package`: writes the zip (README index, manifest.json, SHA256SUMS, optional notebooks as HTML);
- `verify`: re-derives a package from the database and the package's own policy and queries.
"""
