#pragma once

// Everything of the runtime's AWS client library (namespace gops::aws). See
// runtime/README.md for an overview.

#include "gops/aws/client.h"                // AwsClient: callJson, callQuery, send
#include "gops/aws/config.h"                // ClientConfig, resolveClientConfig
#include "gops/aws/credential_providers.h"  // the credential chain and its providers
#include "gops/aws/credentials.h"           // Credentials, CredentialsProvider
#include "gops/aws/encoding.h"              // QueryParams, percent-encoding, timestamps
#include "gops/aws/environment.h"           // Environment
#include "gops/aws/error.h"                 // AwsError and the other exceptions
#include "gops/aws/http.h"                  // HttpRequest/Response, HttpTransport, curl
#include "gops/aws/paginate.h"              // NextToken / NextMarker pagination
#include "gops/aws/retry.h"                 // the standard retry mode
#include "gops/aws/services.h"              // ServiceInfo table, endpoint resolution
#include "gops/aws/shared_config.h"         // ~/.aws/config and ~/.aws/credentials
#include "gops/aws/sigv4.h"                 // Signature Version 4
#include "gops/aws/xml.h"                   // XmlDocument / XmlElement (libxml2)
