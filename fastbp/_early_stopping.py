"""When to stop: the validation split, the no-improvement count, schedules.

The same steps, in the same order, as scikit-learn's MLP estimators, so that
both stop at the same epoch with the same weights: hold out
``validation_fraction`` of the data (the same split for a given
random_state, stratified where scikit-learn stratifies); after every epoch
score the held-out part (or look at the training loss), count the epochs
without an improvement of ``tol``, update the 'invscaling' learning rate,
then stop, or with 'adaptive' divide the learning rate by 5. What differs
between estimators (the score, whether to stratify) comes from their hooks.
"""

import numpy as np

from ._loss import loss_value

__all__ = ["end_of_epoch", "split_validation", "track_validation"]


def split_validation(model, X, Y, sample_weight, weighted, random_state):
    """Hold out ``validation_fraction`` of the data, as scikit-learn does.

    Returns the training part ``X, Y, sample_weight`` (C-contiguous arrays;
    a sparse X stays sparse, as does ``X_val``) and the validation part
    ``(X_val, Y_val, w_val)``, ``w_val`` None when the fit is not weighted.
    """
    from sklearn.model_selection import train_test_split  # import when needed

    try:
        X, X_val, Y, Y_val, sample_weight, w_val = train_test_split(
            X,
            Y,
            sample_weight,
            random_state=random_state,
            test_size=model.validation_fraction,
            stratify=model._stratify(Y),
        )
    except ValueError as error:  # e.g. 0 or too few samples held out
        raise ValueError(
            "early_stopping=True cannot hold out validation_fraction="
            f"{model.validation_fraction} of {X.shape[0]} samples: {error}"
        ) from error
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    for part, weights in (("training", sample_weight), ("validation", w_val)):
        if weighted and not weights.sum() > 0:
            raise ValueError(
                f"early_stopping=True: the sample weights of the {part} "
                f"part (validation_fraction={model.validation_fraction}) are "
                "all zero; give more samples non-zero weights, or change "
                "random_state or validation_fraction."
            )
    if not hasattr(X, "indptr"):  # a sparse X stays sparse (see ``_sparse``)
        X, X_val = np.ascontiguousarray(X), np.ascontiguousarray(X_val)
    Y, sample_weight = np.ascontiguousarray(Y), np.ascontiguousarray(sample_weight)
    return X, Y, sample_weight, (X_val, Y_val, w_val if weighted else None)


def track_validation(model, validation, checkpoint):
    """Score the validation split after an epoch; keep the best weights.

    Appends the score (``model._validation_score``: R^2, NaN when the
    network's outputs are not finite, or the accuracy of the labels they
    decode to) to ``validation_scores_`` and the loss without its L2 term
    (NaN when the outputs are not finite) to ``validation_loss_curve_``.
    """
    X_val, Y_val, w_val = validation
    P = model._forward(X_val)
    with np.errstate(over="ignore", invalid="ignore"):  # outputs that overflowed
        score = float(model._validation_score(P, Y_val, w_val))
    if np.isfinite(P).all():
        weights = np.ones(len(P), P.dtype) if w_val is None else w_val
        loss = loss_value(P, Y_val, weights, *model._loss_spec)
    else:
        loss = np.nan
    record_validation(model, score, loss)
    if score > model.best_validation_score_:
        model.best_validation_score_ = score
        checkpoint.keep_best()


def record_validation(model, score, loss):
    """Append an epoch's validation score and loss; count no improvement."""
    model.validation_scores_.append(score)
    model.validation_loss_curve_.append(float(loss))
    if model.verbose:
        print(f"Validation score: {score:f}")
    if score < model.best_validation_score_ + model.tol:
        model._no_improvement_count += 1
    else:
        model._no_improvement_count = 0


def end_of_epoch(model, loss, validation, checkpoint):
    """Stopping criteria and schedules after an epoch; True to stop.

    ``validation`` is the held-out part (early stopping) or None, in which
    case the training ``loss`` decides.
    """
    if validation is None:
        if loss > model.best_loss_ - model.tol:
            model._no_improvement_count += 1
        else:
            model._no_improvement_count = 0
        model.best_loss_ = min(model.best_loss_, loss)
    else:
        track_validation(model, validation, checkpoint)
    sgd = model.solver == "sgd"
    if sgd and model.learning_rate == "invscaling":
        model._learning_rate = model.learning_rate_init / (
            (model.t_ + 1) ** model.power_t
        )
    if model._no_improvement_count <= model.n_iter_no_change:
        return False
    what = "Validation score" if validation else "Training loss"
    message = (
        f"{what} did not improve more than tol={model.tol:f} for "
        f"{model.n_iter_no_change} consecutive epochs."
    )
    if sgd and model.learning_rate == "adaptive":
        if model._learning_rate > 1e-6:
            model._learning_rate /= 5.0
            model._no_improvement_count = 0
            if model.verbose:
                print(f"{message} Setting learning rate to {model._learning_rate:f}")
            return False
        message += " Learning rate too small."
    if model.verbose:
        print(f"{message} Stopping.")
    return True
