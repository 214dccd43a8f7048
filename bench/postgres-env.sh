# Sourced by the benchmark scripts that need PostgreSQL: psql's variables (PGHOST, PGPORT,
# PGUSER, PGPASSWORD, PGDATABASE) as given, else from scripts/with-test-services.sh's
# HUBCTL_TEST_POSTGRES_* variables, else local defaults; HUB_PGPASSWORD for the topologies' hub URL.
export PGHOST="${PGHOST:-${HUBCTL_TEST_POSTGRES_HOST:-127.0.0.1}}" PGPORT="${PGPORT:-${HUBCTL_TEST_POSTGRES_PORT:-5432}}"
export PGUSER="${PGUSER:-${HUBCTL_TEST_POSTGRES_USER:-hubctl}}" PGDATABASE="${PGDATABASE:-${HUBCTL_TEST_POSTGRES_DATABASE:-hubctl_test}}"
export PGPASSWORD="${PGPASSWORD:-${HUBCTL_TEST_POSTGRES_PASSWORD:-}}" HUB_PGPASSWORD="${PGPASSWORD:-${HUBCTL_TEST_POSTGRES_PASSWORD:-}}"
