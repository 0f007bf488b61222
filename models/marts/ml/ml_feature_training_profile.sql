{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
-- The training profile of each model version that scored a snapshot, the reference of the drift check:
-- per key feature, the deciles of its values over the version's training snapshots and the share of those
-- values in each bucket (nulls are bucket -1, deciles 0 to 9). Incremental (append): a version is
-- profiled once, on the run that first sees it score, from the feature mart as it was then; every run
-- trains a version but only a promoted one scores, so most runs profile nothing.

with features as (

    select * from {{ ref('ml_user_item_features') }}

),

scored_versions as (

    select distinct predictions.model_version
    from {{ ref('ml_conversion_predictions') }} as predictions
    {% if is_incremental() -%}
        where predictions.model_version not in (select profiled.model_version from {{ this }} as profiled)
    {%- endif %}

),

runs as (

    select
        training_runs.model_version,
        training_runs.train_from,
        training_runs.train_to
    from {{ ref('ml_conversion_training_runs') }} as training_runs
    where training_runs.model_version in (select scored_versions.model_version from scored_versions)

),

long_values as (

    select {{ drift_feature_values('features') }}
    from features
    -- only the snapshots some run trained on (the mart is partitioned or clustered by as_of_date)
    where
        features.as_of_date >= (select min(runs.train_from) from runs)
        and features.as_of_date <= (select max(runs.train_to) from runs)

),

training_values as (

    select
        runs.model_version,
        long_values.feature_name,
        long_values.feature_value
    from long_values
    -- one row per (run, value): a value belongs to each run whose training window holds its snapshot
    inner join runs
        on long_values.as_of_date between runs.train_from and runs.train_to

),

edges as (

    select
        model_version,
        feature_name,
        percentile_approx(feature_value, array(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) as decile_edges,
        count(*) as training_values
    from training_values
    group by model_version, feature_name

),

bucketed as (

    select
        training_values.model_version,
        training_values.feature_name,
        {{ decile_bucket('training_values.feature_value', 'edges.decile_edges') }} as bucket
    from training_values
    -- many-to-one: edges has one row per (model_version, feature_name)
    inner join edges
        on
            training_values.model_version = edges.model_version
            and training_values.feature_name = edges.feature_name

),

bucket_counts as (

    select
        model_version,
        feature_name,
        bucket,
        count(*) as bucket_values
    from bucketed
    group by model_version, feature_name, bucket

),

all_buckets as (

    -- every bucket of every profiled feature, so a bucket no training value fell in still has a row
    select
        model_version,
        feature_name,
        decile_edges,
        training_values,
        explode(sequence(-1, 9)) as bucket
    from edges

),

final as (

    select
        all_buckets.model_version,
        all_buckets.feature_name,
        all_buckets.bucket,
        all_buckets.decile_edges,
        all_buckets.training_values,
        coalesce(bucket_counts.bucket_values, 0) / all_buckets.training_values as training_share
    from all_buckets
    -- at most one count per bucket
    left join bucket_counts
        on
            all_buckets.model_version = bucket_counts.model_version
            and all_buckets.feature_name = bucket_counts.feature_name
            and all_buckets.bucket = bucket_counts.bucket

)

select * from final
