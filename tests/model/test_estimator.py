"""The use case's estimator: imported by path, hyperparameters and task checked, packages named."""

import pytest

from model.estimator import check_params, distributions
from model.params import DEFAULT_PARAMS, Params, ParamsError, load_params


def _params(**estimator) -> Params:
    data = load_params(DEFAULT_PARAMS).model_dump()
    data["estimator"] = {**data["estimator"], **estimator}
    return Params.model_validate(data)


def test_the_default_estimator_passes_and_comes_from_scikit_learn():
    params = load_params(DEFAULT_PARAMS)
    assert check_params(params).__name__ == "Ridge"
    assert set(distributions(params.estimator)) == {"scikit-learn"}


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (
            {"import_path": "sklearn.tree.DecisionTreeRegressor", "params": {"alpha": 1.0}},
            r"invalid 'estimator.alpha': DecisionTreeRegressor has no parameter 'alpha' \(it takes: ",
        ),
        (
            {"import_path": "sklearn.linear_model.LogisticRegression", "params": {}},
            "invalid 'estimator.import_path': sklearn.linear_model.LogisticRegression is not a regressor",
        ),
        ({"import_path": "nowhere.Model"}, "invalid 'estimator.import_path': cannot import nowhere"),
        ({"import_path": "sklearn.linear_model.Nope"}, "sklearn.linear_model has no class Nope"),
    ],
)
def test_a_wrong_estimator_or_hyperparameter_is_refused_naming_the_key(estimator, message):
    with pytest.raises(ParamsError, match=message):
        check_params(_params(**estimator))


def test_an_override_of_a_hyperparameter_the_estimator_lacks_is_refused():
    params = load_params(DEFAULT_PARAMS, {"estimator.max_depth": 3})
    with pytest.raises(ParamsError, match=r"invalid 'estimator\.max_depth': Ridge has no parameter"):
        check_params(params)
