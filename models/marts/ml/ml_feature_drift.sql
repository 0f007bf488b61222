{%- set features = [
    'interaction_score', 'views_30d', 'days_since_last_interaction', 'user_views_30d',
    'user_conversion_rate_30d', 'product_views_30d', 'product_conversion_rate_30d',
] -%}
-- Population stability of key features: for each scored snapshot, the PSI of each feature against the
-- training snapshots of the model version that scored it. Buckets are the deciles of the training
-- values (nulls are a bucket of their own); PSI = sum((scored - training) * ln(scored / training)) over
-- buckets, with empty buckets counted as 0.0001. Rule of thumb: < 0.1 stable, 0.1-0.25 watch, > 0.25 shift.

with features as (

    select * from {{ ref('ml_user_item_features') }}

),

scored_snapshots as (

    select distinct
        as_of_date,
        model_version
    from {{ ref('ml_conversion_predictions') }}

),

runs as (

    -- only the versions that scored a snapshot: every run trains a new version, most never score, and
    -- each run's training window would otherwise repeat the training values once more on every build
    select
        training_runs.model_version,
        training_runs.train_from,
        training_runs.train_to
    from {{ ref('ml_conversion_training_runs') }} as training_runs
    where training_runs.model_version in (select scored_snapshots.model_version from scored_snapshots)

),

long_values as (

    select
        features.as_of_date,
        stack(
            {{ features | length }},
            {%- for feature in features %}
                '{{ feature }}', cast(features.{{ feature }} as double){{ ',' if not loop.last }}
            {%- endfor %}
        ) as (feature_name, feature_value)
    from features

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
        percentile_approx(feature_value, array(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) as decile_edges
    from training_values
    group by model_version, feature_name

),

scored_values as (

    select
        scored_snapshots.as_of_date,
        scored_snapshots.model_version,
        long_values.feature_name,
        long_values.feature_value
    from long_values
    -- many-to-one: scored_snapshots is distinct on (as_of_date, model_version) and one version scores a date
    inner join scored_snapshots
        on long_values.as_of_date = scored_snapshots.as_of_date

),

training_bucketed as (

    select
        training_values.model_version,
        training_values.feature_name,
        case
            when training_values.feature_value is null then -1
            else size(filter(edges.decile_edges, edge -> edge < training_values.feature_value))
        end as bucket
    from training_values
    -- many-to-one: edges has one row per (model_version, feature_name)
    inner join edges
        on
            training_values.model_version = edges.model_version
            and training_values.feature_name = edges.feature_name

),

scored_bucketed as (

    select
        scored_values.as_of_date,
        scored_values.model_version,
        scored_values.feature_name,
        case
            when scored_values.feature_value is null then -1
            else size(filter(edges.decile_edges, edge -> edge < scored_values.feature_value))
        end as bucket
    from scored_values
    -- many-to-one: edges has one row per (model_version, feature_name)
    inner join edges
        on
            scored_values.model_version = edges.model_version
            and scored_values.feature_name = edges.feature_name

),

training_shares as (

    select
        model_version,
        feature_name,
        bucket,
        count(*) / sum(count(*)) over (partition by model_version, feature_name) as training_share
    from training_bucketed
    group by model_version, feature_name, bucket

),

scored_shares as (

    select
        as_of_date,
        model_version,
        feature_name,
        bucket,
        count(*) / sum(count(*)) over (partition by as_of_date, model_version, feature_name) as scored_share
    from scored_bucketed
    group by as_of_date, model_version, feature_name, bucket

),

all_buckets as (

    -- every bucket (null bucket -1, deciles 0 to 9) of every feature of every scored snapshot, so a bucket
    -- empty on one side still counts
    select
        scored_snapshots.as_of_date,
        scored_snapshots.model_version,
        edges.feature_name,
        explode(sequence(-1, 9)) as bucket
    from scored_snapshots
    -- one row per feature of the version's training data (edges: one row per version and feature)
    inner join edges
        on scored_snapshots.model_version = edges.model_version

),

compared as (

    select
        all_buckets.as_of_date,
        all_buckets.model_version,
        all_buckets.feature_name,
        all_buckets.bucket,
        greatest(coalesce(scored_shares.scored_share, 0), 0.0001) as scored_share,
        greatest(coalesce(training_shares.training_share, 0), 0.0001) as training_share
    from all_buckets
    -- at most one share per bucket on each side
    left join training_shares
        on
            all_buckets.model_version = training_shares.model_version
            and all_buckets.feature_name = training_shares.feature_name
            and all_buckets.bucket = training_shares.bucket
    left join scored_shares
        on
            all_buckets.as_of_date = scored_shares.as_of_date
            and all_buckets.model_version = scored_shares.model_version
            and all_buckets.feature_name = scored_shares.feature_name
            and all_buckets.bucket = scored_shares.bucket

),

psi_per_feature as (

    select
        as_of_date,
        model_version,
        feature_name,
        sum((scored_share - training_share) * ln(scored_share / training_share)) as psi
    from compared
    group by as_of_date, model_version, feature_name

),

final as (

    select
        as_of_date,
        model_version,
        feature_name,
        psi,
        case
            when psi < 0.1 then 'stable'
            when psi < 0.25 then 'watch'
            else 'shifted'
        end as psi_status
    from psi_per_feature

)

select * from final
