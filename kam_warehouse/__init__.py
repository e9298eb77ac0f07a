"""KAM Warehouse: billing + CRM extracts -> key-account-management marts.

Importing the package switches off every phone-home of the stack (dbt anonymous usage stats, GX
analytics, Scarf telemetry where a package reads SCARF_ANALYTICS) and Airflow's example DAGs; an
explicit env setting still wins. Airflow 3.3 has no update check to switch off (no such option in its
config.yml, tests/deploy/test_compose.py checks every AIRFLOW__ name against it).
"""

import os

for _name, _value in {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "SCARF_ANALYTICS": "false",
}.items():
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
