"""KAM Warehouse: billing + CRM extracts -> key-account-management marts.

Importing the package switches off every phone-home of the stack (dbt anonymous usage stats,
GX analytics, Airflow update checks); an explicit env setting still wins.
"""

import os

for _name, _value in {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__API__SHOW_VERSION_CHECK": "False",
    "SCARF_ANALYTICS": "false",
}.items():
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
