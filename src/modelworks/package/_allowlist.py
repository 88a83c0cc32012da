# Long module: a reviewed data table (four allow-lists, each entry with its reason); one file to review.
"""The reviewed allow-list: every name a modelworks model file may contain, with the reason why.

This is the one file to review when the package format learns a new type. The audit
(:mod:`modelworks.package._audit`) reads the names a skops file would build straight from its
JSON tree and compares them with these tables *before anything is imported*; a name passes only
if it is listed here exactly as the module that *defines* it spells it (``obj.__module__``),
never through a re-export (``sklearn.utils._testing.groupby`` is ``itertools.groupby`` and is
refused).

Four tables, one per way a file can use a name:

* :data:`TYPES` may be *built* (skops object, reduce, tree, loss, array, sparse, random nodes):
  classes whose construction runs no code from the file beyond setting their attributes.
* :data:`VALUE_TYPES` may appear as a *value* (``OneHotEncoder(dtype=numpy.float64)``).
* :data:`FUNCTIONS` may appear as a function value (``FunctionTransformer(func=numpy.log1p)``),
  so they may be called at predict time with the user's data: pure numeric functions only.
* :data:`BIT_GENERATORS`: the numpy random bit generators a ``Generator`` may be rebuilt with.

What is deliberately absent: everything from the standard library but plain containers
(``itertools``, ``functools.partial``, ``operator`` getters, ``pathlib``, ``gzip``, ``threading``,
``multiprocessing``, ``subprocess``, ``os``, ``builtins`` callables), ``numpy.memmap`` and every
NumPy/SciPy I/O function, torch, dask, and skops' method, partial, operator and
constructor-from-reduce nodes (they call a name from the file with arguments from the file).
A type that is not here loads only when the caller names it in ``trust=`` (``--trust TYPE``)
for that one load.
"""

from __future__ import annotations

from modelworks import _areas


def _reasoned(reason: str, names: list[str]) -> dict[str, str]:
    return dict.fromkeys(names, reason)


_ESTIMATOR = ("scikit-learn estimator (sklearn.utils.all_estimators, scikit-learn 1.9): built with "
              "__new__ + __setstate__, holds parameters and fitted arrays; callables in its "
              "parameters are audited separately against FUNCTIONS")
SKLEARN_ESTIMATORS = [
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.cluster._affinity_propagation.AffinityPropagation",
    "sklearn.cluster._agglomerative.AgglomerativeClustering",
    "sklearn.cluster._agglomerative.FeatureAgglomeration",
    "sklearn.cluster._bicluster.SpectralBiclustering",
    "sklearn.cluster._bicluster.SpectralCoclustering",
    "sklearn.cluster._birch.Birch",
    "sklearn.cluster._bisect_k_means.BisectingKMeans",
    "sklearn.cluster._dbscan.DBSCAN",
    "sklearn.cluster._hdbscan.hdbscan.HDBSCAN",
    "sklearn.cluster._kmeans.KMeans",
    "sklearn.cluster._kmeans.MiniBatchKMeans",
    "sklearn.cluster._mean_shift.MeanShift",
    "sklearn.cluster._optics.OPTICS",
    "sklearn.cluster._spectral.SpectralClustering",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.compose._target.TransformedTargetRegressor",
    "sklearn.covariance._elliptic_envelope.EllipticEnvelope",
    "sklearn.covariance._empirical_covariance.EmpiricalCovariance",
    "sklearn.covariance._graph_lasso.GraphicalLasso",
    "sklearn.covariance._graph_lasso.GraphicalLassoCV",
    "sklearn.covariance._robust_covariance.MinCovDet",
    "sklearn.covariance._shrunk_covariance.LedoitWolf",
    "sklearn.covariance._shrunk_covariance.OAS",
    "sklearn.covariance._shrunk_covariance.ShrunkCovariance",
    "sklearn.cross_decomposition._pls.CCA",
    "sklearn.cross_decomposition._pls.PLSCanonical",
    "sklearn.cross_decomposition._pls.PLSRegression",
    "sklearn.cross_decomposition._pls.PLSSVD",
    "sklearn.decomposition._dict_learning.DictionaryLearning",
    "sklearn.decomposition._dict_learning.MiniBatchDictionaryLearning",
    "sklearn.decomposition._dict_learning.SparseCoder",
    "sklearn.decomposition._factor_analysis.FactorAnalysis",
    "sklearn.decomposition._fastica.FastICA",
    "sklearn.decomposition._incremental_pca.IncrementalPCA",
    "sklearn.decomposition._kernel_pca.KernelPCA",
    "sklearn.decomposition._lda.LatentDirichletAllocation",
    "sklearn.decomposition._nmf.MiniBatchNMF",
    "sklearn.decomposition._nmf.NMF",
    "sklearn.decomposition._pca.PCA",
    "sklearn.decomposition._sparse_pca.MiniBatchSparsePCA",
    "sklearn.decomposition._sparse_pca.SparsePCA",
    "sklearn.decomposition._truncated_svd.TruncatedSVD",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
    "sklearn.dummy.DummyClassifier",
    "sklearn.dummy.DummyRegressor",
    "sklearn.ensemble._bagging.BaggingClassifier",
    "sklearn.ensemble._bagging.BaggingRegressor",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._forest.RandomTreesEmbedding",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.ensemble._gb.GradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._iforest.IsolationForest",
    "sklearn.ensemble._stacking.StackingClassifier",
    "sklearn.ensemble._stacking.StackingRegressor",
    "sklearn.ensemble._voting.VotingClassifier",
    "sklearn.ensemble._voting.VotingRegressor",
    "sklearn.ensemble._weight_boosting.AdaBoostClassifier",
    "sklearn.ensemble._weight_boosting.AdaBoostRegressor",
    "sklearn.feature_extraction._dict_vectorizer.DictVectorizer",
    "sklearn.feature_extraction._hash.FeatureHasher",
    "sklearn.feature_extraction.image.PatchExtractor",
    "sklearn.feature_extraction.text.CountVectorizer",
    "sklearn.feature_extraction.text.HashingVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_selection._from_model.SelectFromModel",
    "sklearn.feature_selection._rfe.RFE",
    "sklearn.feature_selection._rfe.RFECV",
    "sklearn.feature_selection._sequential.SequentialFeatureSelector",
    "sklearn.feature_selection._univariate_selection.GenericUnivariateSelect",
    "sklearn.feature_selection._univariate_selection.SelectFdr",
    "sklearn.feature_selection._univariate_selection.SelectFpr",
    "sklearn.feature_selection._univariate_selection.SelectFwe",
    "sklearn.feature_selection._univariate_selection.SelectKBest",
    "sklearn.feature_selection._univariate_selection.SelectPercentile",
    "sklearn.feature_selection._variance_threshold.VarianceThreshold",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.gaussian_process._gpc.GaussianProcessClassifier",
    "sklearn.gaussian_process._gpr.GaussianProcessRegressor",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.impute._knn.KNNImputer",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.kernel_approximation.AdditiveChi2Sampler",
    "sklearn.kernel_approximation.Nystroem",
    "sklearn.kernel_approximation.PolynomialCountSketch",
    "sklearn.kernel_approximation.RBFSampler",
    "sklearn.kernel_approximation.SkewedChi2Sampler",
    "sklearn.kernel_ridge.KernelRidge",
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.linear_model._bayes.ARDRegression",
    "sklearn.linear_model._bayes.BayesianRidge",
    "sklearn.linear_model._coordinate_descent.ElasticNet",
    "sklearn.linear_model._coordinate_descent.ElasticNetCV",
    "sklearn.linear_model._coordinate_descent.Lasso",
    "sklearn.linear_model._coordinate_descent.LassoCV",
    "sklearn.linear_model._coordinate_descent.MultiTaskElasticNet",
    "sklearn.linear_model._coordinate_descent.MultiTaskElasticNetCV",
    "sklearn.linear_model._coordinate_descent.MultiTaskLasso",
    "sklearn.linear_model._coordinate_descent.MultiTaskLassoCV",
    "sklearn.linear_model._glm.glm.GammaRegressor",
    "sklearn.linear_model._glm.glm.PoissonRegressor",
    "sklearn.linear_model._glm.glm.TweedieRegressor",
    "sklearn.linear_model._huber.HuberRegressor",
    "sklearn.linear_model._least_angle.Lars",
    "sklearn.linear_model._least_angle.LarsCV",
    "sklearn.linear_model._least_angle.LassoLars",
    "sklearn.linear_model._least_angle.LassoLarsCV",
    "sklearn.linear_model._least_angle.LassoLarsIC",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._logistic.LogisticRegressionCV",
    "sklearn.linear_model._omp.OrthogonalMatchingPursuit",
    "sklearn.linear_model._omp.OrthogonalMatchingPursuitCV",
    "sklearn.linear_model._passive_aggressive.PassiveAggressiveClassifier",
    "sklearn.linear_model._passive_aggressive.PassiveAggressiveRegressor",
    "sklearn.linear_model._perceptron.Perceptron",
    "sklearn.linear_model._quantile.QuantileRegressor",
    "sklearn.linear_model._ransac.RANSACRegressor",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.linear_model._ridge.RidgeCV",
    "sklearn.linear_model._ridge.RidgeClassifier",
    "sklearn.linear_model._ridge.RidgeClassifierCV",
    "sklearn.linear_model._stochastic_gradient.SGDClassifier",
    "sklearn.linear_model._stochastic_gradient.SGDOneClassSVM",
    "sklearn.linear_model._stochastic_gradient.SGDRegressor",
    "sklearn.linear_model._theil_sen.TheilSenRegressor",
    "sklearn.manifold._classical_mds.ClassicalMDS",
    "sklearn.manifold._isomap.Isomap",
    "sklearn.manifold._locally_linear.LocallyLinearEmbedding",
    "sklearn.manifold._mds.MDS",
    "sklearn.manifold._spectral_embedding.SpectralEmbedding",
    "sklearn.manifold._t_sne.TSNE",
    "sklearn.mixture._bayesian_mixture.BayesianGaussianMixture",
    "sklearn.mixture._gaussian_mixture.GaussianMixture",
    "sklearn.model_selection._classification_threshold.FixedThresholdClassifier",
    "sklearn.model_selection._classification_threshold.TunedThresholdClassifierCV",
    "sklearn.model_selection._search.GridSearchCV",
    "sklearn.model_selection._search.RandomizedSearchCV",
    "sklearn.multiclass.OneVsOneClassifier",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.multiclass.OutputCodeClassifier",
    "sklearn.multioutput.ClassifierChain",
    "sklearn.multioutput.MultiOutputClassifier",
    "sklearn.multioutput.MultiOutputRegressor",
    "sklearn.multioutput.RegressorChain",
    "sklearn.naive_bayes.BernoulliNB",
    "sklearn.naive_bayes.CategoricalNB",
    "sklearn.naive_bayes.ComplementNB",
    "sklearn.naive_bayes.GaussianNB",
    "sklearn.naive_bayes.MultinomialNB",
    "sklearn.neighbors._classification.KNeighborsClassifier",
    "sklearn.neighbors._classification.RadiusNeighborsClassifier",
    "sklearn.neighbors._graph.KNeighborsTransformer",
    "sklearn.neighbors._graph.RadiusNeighborsTransformer",
    "sklearn.neighbors._kde.KernelDensity",
    "sklearn.neighbors._lof.LocalOutlierFactor",
    "sklearn.neighbors._nca.NeighborhoodComponentsAnalysis",
    "sklearn.neighbors._nearest_centroid.NearestCentroid",
    "sklearn.neighbors._regression.KNeighborsRegressor",
    "sklearn.neighbors._regression.RadiusNeighborsRegressor",
    "sklearn.neighbors._unsupervised.NearestNeighbors",
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
    "sklearn.neural_network._rbm.BernoulliRBM",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.Binarizer",
    "sklearn.preprocessing._data.KernelCenterer",
    "sklearn.preprocessing._data.MaxAbsScaler",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.Normalizer",
    "sklearn.preprocessing._data.PowerTransformer",
    "sklearn.preprocessing._data.QuantileTransformer",
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._discretization.KBinsDiscretizer",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._label.MultiLabelBinarizer",
    "sklearn.preprocessing._polynomial.PolynomialFeatures",
    "sklearn.preprocessing._polynomial.SplineTransformer",
    "sklearn.preprocessing._target_encoder.TargetEncoder",
    "sklearn.random_projection.GaussianRandomProjection",
    "sklearn.random_projection.SparseRandomProjection",
    "sklearn.semi_supervised._label_propagation.LabelPropagation",
    "sklearn.semi_supervised._label_propagation.LabelSpreading",
    "sklearn.semi_supervised._self_training.SelfTrainingClassifier",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.svm._classes.LinearSVR",
    "sklearn.svm._classes.NuSVC",
    "sklearn.svm._classes.NuSVR",
    "sklearn.svm._classes.OneClassSVM",
    "sklearn.svm._classes.SVC",
    "sklearn.svm._classes.SVR",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.tree._classes.ExtraTreeRegressor",
]

_INTERNAL = ("scikit-learn internal state of a fitted estimator (losses, links, distance metrics, "
             "binning, splitters): data only, no I/O")
SKLEARN_INTERNALS = [
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.loss.AbsoluteError",
    "sklearn._loss.loss.PinballLoss",
    "sklearn._loss.loss.HuberLoss",
    "sklearn._loss.loss.HalfPoissonLoss",
    "sklearn._loss.loss.HalfGammaLoss",
    "sklearn._loss.loss.HalfTweedieLoss",
    "sklearn._loss.loss.HalfTweedieLossIdentity",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.ExponentialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.LogLink",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.HalfLogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss._loss.CyHalfSquaredError",
    "sklearn._loss._loss.CyAbsoluteError",
    "sklearn._loss._loss.CyPinballLoss",
    "sklearn._loss._loss.CyHuberLoss",
    "sklearn._loss._loss.CyHalfPoissonLoss",
    "sklearn._loss._loss.CyHalfGammaLoss",
    "sklearn._loss._loss.CyHalfTweedieLoss",
    "sklearn._loss._loss.CyHalfTweedieLossIdentity",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyExponentialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn.linear_model._sgd_fast.ModifiedHuber",
    "sklearn.linear_model._sgd_fast.Hinge",
    "sklearn.linear_model._sgd_fast.SquaredHinge",
    "sklearn.linear_model._sgd_fast.EpsilonInsensitive",
    "sklearn.linear_model._sgd_fast.SquaredEpsilonInsensitive",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.SEuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.ChebyshevDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.metrics._dist_metrics.MahalanobisDistance64",
    "sklearn.metrics._dist_metrics.HammingDistance64",
    "sklearn.metrics._dist_metrics.CanberraDistance64",
    "sklearn.metrics._dist_metrics.BrayCurtisDistance64",
    "sklearn.metrics._dist_metrics.JaccardDistance64",
    "sklearn.metrics._dist_metrics.MatchingDistance64",
    "sklearn.metrics._dist_metrics.DiceDistance64",
    "sklearn.metrics._dist_metrics.RogersTanimotoDistance64",
    "sklearn.metrics._dist_metrics.RussellRaoDistance64",
    "sklearn.metrics._dist_metrics.SokalMichenerDistance64",
    "sklearn.metrics._dist_metrics.SokalSneathDistance64",
    "sklearn.metrics._dist_metrics.HaversineDistance64",
    "sklearn.metrics._dist_metrics.EuclideanDistance32",
    "sklearn.metrics._dist_metrics.SEuclideanDistance32",
    "sklearn.metrics._dist_metrics.ManhattanDistance32",
    "sklearn.metrics._dist_metrics.ChebyshevDistance32",
    "sklearn.metrics._dist_metrics.MinkowskiDistance32",
    "sklearn.metrics._dist_metrics.MahalanobisDistance32",
    "sklearn.metrics._dist_metrics.HammingDistance32",
    "sklearn.metrics._dist_metrics.CanberraDistance32",
    "sklearn.metrics._dist_metrics.BrayCurtisDistance32",
    "sklearn.metrics._dist_metrics.JaccardDistance32",
    "sklearn.metrics._dist_metrics.MatchingDistance32",
    "sklearn.metrics._dist_metrics.DiceDistance32",
    "sklearn.metrics._dist_metrics.RogersTanimotoDistance32",
    "sklearn.metrics._dist_metrics.RussellRaoDistance32",
    "sklearn.metrics._dist_metrics.SokalMichenerDistance32",
    "sklearn.metrics._dist_metrics.SokalSneathDistance32",
    "sklearn.metrics._dist_metrics.HaversineDistance32",
    "sklearn.model_selection._split.KFold",
    "sklearn.model_selection._split.GroupKFold",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.model_selection._split.StratifiedGroupKFold",
    "sklearn.model_selection._split.TimeSeriesSplit",
    "sklearn.model_selection._split.RepeatedKFold",
    "sklearn.model_selection._split.RepeatedStratifiedKFold",
    "sklearn.model_selection._split.ShuffleSplit",
    "sklearn.model_selection._split.StratifiedShuffleSplit",
    "sklearn.model_selection._split.PredefinedSplit",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.multiclass._ConstantPredictor",
    "sklearn.compose._column_transformer.make_column_selector",
]

# Trees hold raw child/feature indices that scikit-learn follows without bounds checks; the
# audit checks those indices after loading (``_audit.check_loaded``), so a crafted tree is a
# refused package, not an out-of-bounds read.
_TREE = "fitted tree structure of forests, gradient boosting and k-NN; indices bounds-checked after load"
SKLEARN_TREES = [
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
]

_BOOSTER = "gradient-boosting library model: the booster is rebuilt by the library's own model parser"
BOOSTERS = [
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "xgboost.sklearn.XGBRanker",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker",
]

# skops saves a CatBoost model through CatBoost's own __getstate__: a dict of its parameters (JSON
# values) and the fitted model as CatBoost's binary "cbm" bytes (a BytesNode); __setstate__ hands
# those bytes to CatBoost's model parser (a verified FlatBuffers buffer), never to pickle. Only
# modelworks' subclasses (what the zoo builds) are listed; a plain catboost.CatBoostClassifier
# loads with --trust.
_CATBOOST = ("CatBoost model (modelworks' zoo subclass): parameters and the model as cbm bytes, "
             "rebuilt by CatBoost's own model parser (no pickle)")
CATBOOST = [
    "modelworks.models._catboost.CatBoostClassifier",
    "modelworks.models._catboost.CatBoostRegressor",
]

_PYGAM = "pygam model, term, link, distribution or callback inside modelworks' GAM estimators: data only"
PYGAM = [
    "pygam.terms.FactorTerm",
    "pygam.terms.Intercept",
    "pygam.terms.LinearTerm",
    "pygam.terms.SplineTerm",
    "pygam.terms.TensorTerm",
    "pygam.terms.TermList",
    "pygam.links.IdentityLink",
    "pygam.links.InvSquaredLink",
    "pygam.links.InverseLink",
    "pygam.links.LogLink",
    "pygam.links.LogitLink",
    "pygam.distributions.BinomialDist",
    "pygam.distributions.GammaDist",
    "pygam.distributions.InvGaussDist",
    "pygam.distributions.NormalDist",
    "pygam.distributions.PoissonDist",
    "pygam.callbacks.Accuracy",
    "pygam.callbacks.Coef",
    "pygam.callbacks.Deviance",
    "pygam.callbacks.Diffs",
    "pygam.pygam.ExpectileGAM",
    "pygam.pygam.GAM",
    "pygam.pygam.GammaGAM",
    "pygam.pygam.InvGaussGAM",
    "pygam.pygam.LinearGAM",
    "pygam.pygam.LogisticGAM",
    "pygam.pygam.PoissonGAM",
]

_MODELWORKS = "modelworks' own estimator or transformer: parameters and fitted state only"
MODELWORKS = [
    "modelworks.data._preprocess.DatetimeFeatures",
    "modelworks.data._preprocess.TextFeatures",
    "modelworks.models._boosters.XGBClassifier",
    "modelworks.models._log_target.LogTargetRegressor",
    "modelworks.ensemble._blend.BlendClassifier",
    "modelworks.ensemble._blend.BlendRegressor",
    "modelworks.ensemble._selection.EnsembleSelectionClassifier",
    "modelworks.ensemble._selection.EnsembleSelectionRegressor",
    "modelworks.ensemble._stacking.StackingClassifier",
    "modelworks.ensemble._stacking.StackingRegressor",
    "modelworks.stats._mixed.MixedModel",
    "modelworks.stats._gam.GAMRegressor",
    "modelworks.stats._gam.GAMClassifier",
    "modelworks.features._poly.PolynomialFeatures",
]

_NUMPY = "NumPy array, scalar or random state: rebuilt from .npy bytes (no pickle) or numbers"
NUMPY_TYPES = [
    "numpy.ndarray",
    "numpy.ma.MaskedArray",
    "numpy.dtype",
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "numpy.bool",
    "numpy.bool_",
    "numpy.bytes_",
    "numpy.complex128",
    "numpy.complex64",
    "numpy.datetime64",
    "numpy.float16",
    "numpy.float32",
    "numpy.float64",
    "numpy.int16",
    "numpy.int32",
    "numpy.int64",
    "numpy.int8",
    "numpy.longdouble",
    "numpy.object_",
    "numpy.str_",
    "numpy.timedelta64",
    "numpy.uint16",
    "numpy.uint32",
    "numpy.uint64",
    "numpy.uint8",
]

_SPARSE = "SciPy sparse matrix: rebuilt from .npz arrays (no pickle)"
SCIPY_SPARSE = [
    "scipy.sparse._bsr.bsr_matrix",
    "scipy.sparse._bsr.bsr_array",
    "scipy.sparse._coo.coo_matrix",
    "scipy.sparse._coo.coo_array",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csc.csc_array",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csr.csr_array",
    "scipy.sparse._dia.dia_matrix",
    "scipy.sparse._dia.dia_array",
    "scipy.sparse._dok.dok_matrix",
    "scipy.sparse._dok.dok_array",
    "scipy.sparse._lil.lil_matrix",
    "scipy.sparse._lil.lil_array",
]

_CONTAINER = "plain container or scalar that skops rebuilds itself"
CONTAINERS = [
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.set",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.bytes",
    "builtins.bytearray",
    "builtins.slice",
    "collections.OrderedDict",
    "collections.defaultdict",
    "sklearn.utils._bunch.Bunch",
]

# every table with its reason; an area names the tables its models need (modelworks._areas: trusted)
TABLES: dict[str, tuple[str, list[str]]] = {
    "SKLEARN_ESTIMATORS": (_ESTIMATOR, SKLEARN_ESTIMATORS),
    "SKLEARN_INTERNALS": (_INTERNAL, SKLEARN_INTERNALS),
    "SKLEARN_TREES": (_TREE, SKLEARN_TREES),
    "BOOSTERS": (_BOOSTER, BOOSTERS),
    "CATBOOST": (_CATBOOST, CATBOOST),
    "PYGAM": (_PYGAM, PYGAM),
    "MODELWORKS": (_MODELWORKS, MODELWORKS),
    "NUMPY_TYPES": (_NUMPY, NUMPY_TYPES),
    "SCIPY_SPARSE": (_SPARSE, SCIPY_SPARSE),
    "CONTAINERS": (_CONTAINER, CONTAINERS),
}

# what may be built: the tables the areas name, and no other
TYPES: dict[str, str] = {name: reason for table in _areas.trusted_tables()
                         for reason, names in [TABLES[table]] for name in names}

# a type as a parameter value (dtype=..., default_factory=...): calling one builds a scalar or container
VALUE_TYPES: dict[str, str] = {
    **_reasoned("a dtype parameter (OneHotEncoder(dtype=...), TfidfVectorizer(dtype=...))",
                ["numpy.float64", "numpy.float32", "numpy.float16", "numpy.int64", "numpy.int32",
                 "numpy.int16", "numpy.int8", "numpy.uint8", "numpy.uint16", "numpy.uint32",
                 "numpy.uint64", "numpy.bool", "numpy.bool_", "numpy.object_", "numpy.str_"]),
    **_reasoned("a plain Python type as a parameter (dtype=float, default_factory=list)",
                ["builtins.float", "builtins.int", "builtins.str", "builtins.bool", "builtins.object",
                 "builtins.list", "builtins.dict", "builtins.tuple", "builtins.set",
                 "collections.OrderedDict"]),
}

# called with the user's data at predict time (FunctionTransformer, TransformedTargetRegressor)
_UFUNC = "NumPy ufunc: elementwise arithmetic on the input, no I/O, no attribute access"
FUNCTIONS: dict[str, str] = {
    **_reasoned(_UFUNC, [f"numpy.{name}" for name in (
        "log", "log1p", "log2", "log10", "exp", "expm1", "exp2", "sqrt", "cbrt", "square", "abs",
        "absolute", "reciprocal", "negative", "sign", "arcsinh", "sinh", "tanh", "arctanh")]),
    "modelworks.data._preprocess._to_str":
        "modelworks' preprocessing: casts categorical columns to text before one-hot encoding",
}

BIT_GENERATORS = frozenset({"MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64"})
