-- Model monitoring once labels arrive: for each scored snapshot whose label window has closed, the
-- realised conversion rate per score decile next to the mean predicted probability. A healthy model
-- has realised rates falling from decile 1 to 10 and close to the predicted ones.

with predictions as (

    select * from {{ ref('ml_conversion_predictions') }}

),

labels as (

    select
        as_of_date,
        user_id,
        product_id,
        converted
    from {{ ref('ml_user_item_features') }}
    where is_label_complete

),

labelled as (

    select
        predictions.as_of_date,
        predictions.model_name,
        predictions.model_version,
        predictions.probability_decile,
        predictions.probability,
        labels.converted
    from predictions
    -- one-to-one: both are unique on (as_of_date, user_id, product_id) (tested)
    inner join labels
        on
            predictions.as_of_date = labels.as_of_date
            and predictions.user_id = labels.user_id
            and predictions.product_id = labels.product_id

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
