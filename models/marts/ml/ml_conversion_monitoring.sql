-- Model monitoring once labels arrive: for each scored snapshot whose label window has closed, the
-- realised conversion rate per score decile next to the mean predicted probability. A healthy model
-- has realised rates falling from decile 1 to 10 and close to the predicted ones.
-- Only the snapshots both sides can join are read: the mart from the first scored snapshot on (most
-- snapshots are training history no model scored), the predictions up to the last label-complete one
-- (the newest ones wait for their labels). Locally the mart is partitioned by as_of_date and the first
-- filter prunes its partitions; joining the whole of both tables read every pair twice for a few
-- snapshots' result.

with predictions as (

    select * from {{ ref('ml_conversion_predictions') }}

),

scored_range as (

    select min(as_of_date) as first_scored_snapshot
    from predictions

),

labels as (

    select
        as_of_date,
        user_id,
        product_id,
        converted
    from {{ ref('ml_user_item_features') }}
    where
        is_label_complete
        and as_of_date >= (select scored_range.first_scored_snapshot from scored_range)

),

labelled_range as (

    select max(as_of_date) as last_labelled_snapshot
    from labels

),

labelled_predictions as (

    select
        as_of_date,
        user_id,
        product_id,
        model_name,
        model_version,
        probability_decile,
        probability
    from predictions
    where as_of_date <= (select labelled_range.last_labelled_snapshot from labelled_range)

),

labelled as (

    select
        labelled_predictions.as_of_date,
        labelled_predictions.model_name,
        labelled_predictions.model_version,
        labelled_predictions.probability_decile,
        labelled_predictions.probability,
        labels.converted
    from labelled_predictions
    -- one-to-one: both are unique on (as_of_date, user_id, product_id) (tested)
    inner join labels
        on
            labelled_predictions.as_of_date = labels.as_of_date
            and labelled_predictions.user_id = labels.user_id
            and labelled_predictions.product_id = labels.product_id

),

final as (

    select
        as_of_date,
        model_name,
        model_version,
        probability_decile,
        count(*) as pairs,
        sum(case when converted then 1 else 0 end) as conversions,
        avg(probability) as mean_predicted_probability,
        avg(case when converted then 1.0 else 0.0 end) as realised_conversion_rate
    from labelled
    group by as_of_date, model_name, model_version, probability_decile

)

select * from final
