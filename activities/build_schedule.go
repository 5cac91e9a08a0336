package activities

import (
	"context"
	"fmt"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// TemplateInput names a build template.
type TemplateInput struct {
	Region     string
	TemplateID string
}

// DescribeBuildTemplate reads a build template without starting a build:
// a scheduled build reads its source from it. A template that does not
// exist is a permanent TemplateNotFound.
func (a *Builds) DescribeBuildTemplate(ctx context.Context, in TemplateInput) (*model.BuildTemplate, error) {
	resp, err := a.Cloud.DescribeImagePipelines(ctx, &cloud.DescribeImagePipelinesRequest{RegionId: in.Region, ImagePipelineIds: []string{in.TemplateID}})
	if err != nil {
		return nil, fromCloud(err)
	}
	if len(resp.ImagePipelines) == 0 {
		return nil, permanent(ErrTypeTemplateNotFound, fmt.Errorf("no build template %s in %s", in.TemplateID, in.Region))
	}
	tpl := buildTemplate(resp.ImagePipelines[0])
	return &tpl, nil
}
